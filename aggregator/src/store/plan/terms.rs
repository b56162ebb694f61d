//! What a line filter implies about the terms of every line it matches: a regex or a
//! substring seen as runs of token characters (each part of one message token) and, where
//! two runs are joined by `=`, a `key=value` pair term. The caller turns these term regexes
//! into index clauses; each must hold for every matching line (a superset: the candidates
//! are verified).

use crate::store::schema::{MAX_PAIR_VALUE_BYTES, MAX_TOKEN_BYTES};

/// [`crate::store::schema::PAIR_PREFIX`] as regex text: the start of every pair pattern.
const PAIR: &str = r"\x{2}";

/// A regex over pair terms (see [`crate::store::schema::LogTokenizer`]): `key` and
/// `value` are regex texts of the two sides, each open (any more token characters) where
/// the filter does not bound it; `value_len` is the byte length range of what `value`
/// matches. A pair term holds exactly one `=`, so `[^=]*` (not `.*`) keeps the dictionary
/// walk to the keys that fit. Where the line's value may be over [`MAX_PAIR_VALUE_BYTES`]
/// the term may be the long-value mark instead; `None` when it always is (then the pair
/// says little, and the value's own token narrows better).
fn pair_pattern(
    key: &str,
    value: &str,
    open_left: bool,
    open_right: bool,
    value_len: (usize, Option<usize>),
) -> Option<String> {
    if value_len.0 > MAX_PAIR_VALUE_BYTES {
        return None;
    }
    let left = if open_left { "[^=]*" } else { "" };
    let right = if open_right { "[^=]*" } else { "" };
    let may_be_long = open_right || value_len.1.is_none_or(|max| max > MAX_PAIR_VALUE_BYTES);
    Some(if may_be_long {
        format!(r"{PAIR}{left}{key}=(?:{value}{right}|\x{{1}})")
    } else {
        format!("{PAIR}{left}{key}={value}")
    })
}

/// The pair-term regex of the long-value marks of a key (`\u{2}key=\u{1}`, see
/// [`crate::store::schema::LONG_VALUE_MARK`]), the key open to the left: the lines where a
/// pair filter on that key cannot be decided from the index.
fn pair_mark_pattern(key: &str) -> String {
    format!(r"{PAIR}[^=]*{key}=\x{{1}}")
}

/// When the substring is exactly one pair (`status=503`): the mark pattern of its key
/// ([`pair_mark_pattern`]). Such a filter is answered by its pair clause for every line
/// without a mark of that key or an over-long token.
pub(super) fn substring_exact(text: &str, toks: &[(usize, &str)], pairs: usize) -> Option<String> {
    match toks {
        [(0, key), (vo, value)] if pairs == 1 && vo + value.len() == text.len() => {
            Some(pair_mark_pattern(&regex::escape(key)))
        }
        _ => None,
    }
}

/// Pair-term regexes a substring implies, with the indexes of the two tokens (of `toks`,
/// the substring's tokens) each joins: two tokens joined by `=`, the first open to the left
/// when it starts the substring, the second open to the right when it ends it.
pub(super) fn substring_pairs(text: &str, toks: &[(usize, &str)]) -> Vec<(String, [usize; 2])> {
    let mut out = Vec::new();
    for (i, w) in toks.windows(2).enumerate() {
        let ((ko, key), (vo, value)) = (w[0], w[1]);
        let eq = ko + key.len();
        if vo != eq + 1 || text.as_bytes().get(eq) != Some(&b'=') {
            continue;
        }
        if key.len() > MAX_TOKEN_BYTES || value.len() > MAX_TOKEN_BYTES {
            continue;
        }
        let open_right = vo + value.len() == text.len();
        let value_len = (value.len(), (!open_right).then_some(value.len()));
        if let Some(pat) = pair_pattern(
            &regex::escape(key),
            &regex::escape(value),
            ko == 0,
            open_right,
            value_len,
        ) {
            out.push((pat, [i, i + 1]));
        }
    }
    out
}

/// One element of a regex seen as a sequence of characters.
enum Atom {
    /// A literal character.
    Char(char),
    /// A class or repetition that only matches token characters, as regex text, with the
    /// byte lengths it matches (at least, at most).
    TokenClass(String, usize, Option<usize>),
    /// Anything else: may or may not split tokens.
    Unknown,
}

/// Whether every character of a (small) class is a token character.
fn class_is_token_only(c: &regex_syntax::hir::Class) -> bool {
    use regex_syntax::hir::Class;
    match c {
        Class::Unicode(u) => u.ranges().iter().all(|r| {
            let (a, b) = (r.start() as u32, r.end() as u32);
            b - a <= 1024
                && (a..=b).all(|x| char::from_u32(x).is_none_or(argus_core::text::is_token_char))
        }),
        Class::Bytes(by) => by.ranges().iter().all(|r| {
            (r.start()..=r.end()).all(|x| x < 0x80 && argus_core::text::is_token_char(x as char))
        }),
    }
}

fn atoms(h: &regex_syntax::hir::Hir, out: &mut Vec<Atom>) {
    use regex_syntax::hir::HirKind;
    match h.kind() {
        HirKind::Concat(v) => v.iter().for_each(|x| atoms(x, out)),
        HirKind::Capture(c) => match c.sub.kind() {
            HirKind::Concat(_) | HirKind::Literal(_) => atoms(&c.sub, out),
            _ => atoms_single(&c.sub, out),
        },
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => out.extend(s.chars().map(Atom::Char)),
            Err(_) => out.push(Atom::Unknown),
        },
        _ => atoms_single(h, out),
    }
}

fn atoms_single(h: &regex_syntax::hir::Hir, out: &mut Vec<Atom>) {
    use regex_syntax::hir::HirKind;
    let token_only = match h.kind() {
        HirKind::Class(c) => class_is_token_only(c),
        HirKind::Repetition(r) => {
            matches!(r.sub.kind(), HirKind::Class(c) if class_is_token_only(c))
        }
        _ => false,
    };
    let p = h.properties();
    out.push(match (token_only, p.minimum_len()) {
        (true, Some(min)) => Atom::TokenClass(h.to_string(), min, p.maximum_len()),
        _ => Atom::Unknown,
    });
}

/// A maximal run of token atoms of a regex (`atoms[start..end]`): every match of the
/// regex has, there, a run of token characters that is part of one token.
struct Run {
    start: usize,
    end: usize,
    /// A literal separator bounds the run on that side, so the token starts (ends) there.
    closed_left: bool,
    closed_right: bool,
    /// The run as regex text.
    pat: String,
    /// Whether it holds a literal character.
    literal: bool,
    /// Whether it holds a literal that is not a hex digit (only word terms can match).
    word: bool,
    /// The byte lengths it matches: at least, at most.
    min_len: usize,
    max_len: Option<usize>,
}

fn is_token_atom(a: &Atom) -> bool {
    match a {
        Atom::Char(c) => argus_core::text::is_token_char(*c),
        Atom::TokenClass(..) => true,
        Atom::Unknown => false,
    }
}

/// The atoms of the line regex `re`, when it is a plain sequence (a concatenation or a
/// literal); otherwise nothing can be required of its matches and the list is empty.
fn regex_atoms(re: &str) -> Vec<Atom> {
    let Ok(hir) = regex_syntax::Parser::new().parse(re) else {
        return Vec::new();
    };
    if !matches!(
        hir.kind(),
        regex_syntax::hir::HirKind::Concat(_) | regex_syntax::hir::HirKind::Literal(_)
    ) {
        return Vec::new();
    }
    let mut seq = Vec::new();
    atoms(&hir, &mut seq);
    seq
}

fn token_runs(seq: &[Atom]) -> Vec<Run> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        if !is_token_atom(&seq[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < seq.len() && is_token_atom(&seq[i]) {
            i += 1;
        }
        let mut run = Run {
            start,
            end: i,
            closed_left: start > 0 && matches!(seq[start - 1], Atom::Char(_)),
            closed_right: i < seq.len() && matches!(seq[i], Atom::Char(_)),
            pat: String::new(),
            literal: false,
            word: false,
            min_len: 0,
            max_len: Some(0),
        };
        for a in &seq[start..i] {
            match a {
                Atom::Char(c) => {
                    run.literal = true;
                    run.min_len += c.len_utf8();
                    run.max_len = run.max_len.map(|m| m + c.len_utf8());
                    run.word |= !c.is_ascii_hexdigit();
                    run.pat
                        .push_str(&regex::escape(c.encode_utf8(&mut [0u8; 4])));
                }
                Atom::TokenClass(t, min, max) => {
                    run.min_len += min;
                    run.max_len = run.max_len.zip(*max).map(|(a, b)| a + b);
                    run.pat.push_str(&format!("(?:{t})"));
                }
                Atom::Unknown => {}
            }
        }
        out.push(run);
    }
    out
}

/// What every match of a line regex implies about the terms of its line.
pub(super) struct RegexTerms {
    /// Message-term regexes, whether only word terms can match, and the run they are of:
    /// each run of token characters with at least one literal character, open on a side
    /// unless a literal separator bounds it there. `status=5\d\d` gives `.*status` and
    /// `5[0-9][0-9].*`.
    pub tokens: Vec<(String, bool, usize)>,
    /// Pair-term regexes and the two runs they join: two runs joined by a literal `=`,
    /// each matching at least one character. `status=5\d\d` gives
    /// `[^=]*status=(?:5[0-9][0-9][^=]*|\x{1})`.
    pub pairs: Vec<(String, [usize; 2])>,
    /// When the regex is exactly one pair, open on both sides (`status=5\d\d`): the mark
    /// pattern of its key ([`pair_mark_pattern`]). Such a filter is answered by its pair
    /// clause for every line without a mark of that key or an over-long token.
    pub exact: Option<String>,
}

/// The term regexes every match of the line regex `re` implies (none when it is not a
/// plain sequence).
pub(super) fn regex_terms(re: &str) -> RegexTerms {
    let seq = regex_atoms(re);
    let runs = token_runs(&seq);
    let mut terms = RegexTerms {
        tokens: Vec::new(),
        pairs: Vec::new(),
        exact: None,
    };
    for (i, r) in runs.iter().enumerate() {
        if r.literal {
            let pat = format!(
                "{}{}{}",
                if r.closed_left { "" } else { ".*" },
                r.pat,
                if r.closed_right { "" } else { ".*" }
            );
            terms.tokens.push((pat, r.word, i));
        }
    }
    for (i, w) in runs.windows(2).enumerate() {
        let (k, v) = (&w[0], &w[1]);
        let joined = v.start == k.end + 1 && matches!(seq[k.end], Atom::Char('='));
        if !joined || k.min_len == 0 || v.min_len == 0 {
            continue;
        }
        let value_len = (v.min_len, v.max_len);
        if let Some(pat) = pair_pattern(&k.pat, &v.pat, !k.closed_left, !v.closed_right, value_len)
        {
            terms.pairs.push((pat, [i, i + 1]));
        }
    }
    // Exactly `K=V`: a line holds a match iff it holds a pair whose key ends with a match
    // of K and whose value starts with a match of V (both are runs of token characters, so
    // they lie inside the maximal runs around that `=`).
    if let ([k, v], [_]) = (&runs[..], &terms.pairs[..]) {
        if k.start == 0 && v.end == seq.len() {
            terms.exact = Some(pair_mark_pattern(&k.pat));
        }
    }
    terms
}
