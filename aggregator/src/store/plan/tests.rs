//! The plan's term patterns: unit cases, and a property test that no pattern drops a line
//! its filter matches.

use super::terms::{regex_terms, substring_exact, substring_pairs};
use crate::store::schema::{hex_pair_analyzer, is_hex_token, MAX_TOKEN_BYTES, PAIR_PREFIX};

#[test]
fn term_patterns_of_regexes() {
    let pats = |re: &str| {
        regex_terms(re)
            .tokens
            .into_iter()
            .map(|p| p.0)
            .collect::<Vec<_>>()
    };
    let full = |p: &str| regex::Regex::new(&format!("^(?:{p})$")).expect("valid term regex");
    let p = pats(r"status=5\d\d");
    assert_eq!(p.len(), 2);
    assert_eq!(p[0], ".*status");
    let p1 = full(&p[1]);
    for t in ["503", "5031", "5٠٣"] {
        assert!(p1.is_match(t), "{t}");
    }
    for t in ["404", "5", "50", "x503"] {
        assert!(!p1.is_match(t), "{t}");
    }
    assert_eq!(pats(r"GET /api/.*timeout"), [".*GET", "api", ".*timeout.*"]);
    let p = pats(r"took \d+ms");
    assert_eq!(p[0], ".*took");
    assert!(
        full(&p[1]).is_match("12ms")
            && full(&p[1]).is_match("12msx")
            && !full(&p[1]).is_match("ms")
    );
    assert!(pats(r"error|warn").is_empty());
    assert!(pats(r"\d+").is_empty());
    assert!(pats(r"(").is_empty());
    assert!(pats(r"(?i)err").is_empty());
}

/// A pair pattern without the prefix every one has.
fn unprefixed(p: &str) -> String {
    p.strip_prefix(r"\x{2}")
        .unwrap_or_else(|| panic!("{p} starts with the pair prefix"))
        .to_string()
}

fn pair_pats(re: &str) -> Vec<String> {
    regex_terms(re)
        .pairs
        .into_iter()
        .map(|p| unprefixed(&p.0))
        .collect()
}

fn full(p: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{p})$")).expect("valid term regex")
}

#[test]
fn pair_patterns_of_regexes() {
    let p = pair_pats(r"status=5\d\d");
    assert_eq!(p.len(), 1);
    let re = full(&p[0]);
    for t in [
        "status=503",
        "http_status=5031",
        "status=5٠٣",
        "Xstatus=500x",
        "status=\u{1}",
    ] {
        assert!(re.is_match(t), "{t}");
    }
    for t in [
        "status=404",
        "status=50",
        "request_id=503",
        "status=",
        "a=status=503",
        "request_id=\u{1}",
    ] {
        assert!(!re.is_match(t), "{t}");
    }
    // The pair clause covers both runs: no token clause is needed for them.
    assert_eq!(regex_terms(r"status=5\d\d").pairs[0].1, [0, 1]);

    // Bounded sides are closed: the key starts after ` `, the value ends at ` `.
    assert_eq!(pair_pats(r" level=error "), ["level=error"]);
    assert_eq!(pair_pats(r"a=b=c"), ["[^=]*a=b", r"b=(?:c[^=]*|\x{1})"]);
    assert_eq!(pair_pats(r"took=1\.5s"), ["[^=]*took=1"]);
    assert_eq!(
        pair_pats(r"^level=error"),
        [r"[^=]*level=(?:error[^=]*|\x{1})"]
    );
    assert_eq!(pair_pats(r"k=(v)"), [r"[^=]*k=(?:v[^=]*|\x{1})"]);

    // A value that may be over MAX_PAIR_VALUE_BYTES may be the long-value mark; one
    // that always is gives no pair (its own token narrows).
    assert_eq!(pair_pats(r" id=[0-9a-f]{12} "), ["id=(?:[0-9a-f]{12})"]);
    assert_eq!(
        pair_pats(r" id=[0-9a-f]+ "),
        [r"id=(?:(?:[0-9a-f]+)|\x{1})"]
    );
    assert!(pair_pats(r" id=[0-9a-f]{13}").is_empty());
    assert!(pair_pats(r"id=0123456789abc").is_empty());

    // Case-insensitive: the classes go into the pattern, which still needs the `=`.
    let p = pair_pats(r"(?i)status=5\d\d");
    assert_eq!(p.len(), 1);
    for t in ["STATUS=503", "Status=500", "xſtatus=599"] {
        assert!(full(&p[0]).is_match(t), "{t}");
    }
    assert!(!full(&p[0]).is_match("status=404"));

    // A side that may be empty, or is not right beside the `=`, gives no pair.
    for re in [
        r"status=\d*",
        r"\w*=5",
        r"status=",
        r"=5",
        r"status= 5",
        r"status==5",
        r"status=\b5",
        r"status=(5|-)",
        r"status|x=5",
    ] {
        assert!(pair_pats(re).is_empty(), "{re}");
    }
    assert_eq!(pair_pats(r"status=\d+").len(), 1);
}

#[test]
fn pair_patterns_of_substrings() {
    let pats = |text: &str| {
        let toks: Vec<_> = argus_core::text::tokens(text).collect();
        substring_pairs(text, &toks)
            .into_iter()
            .map(|p| unprefixed(&p.0))
            .collect::<Vec<_>>()
    };
    assert_eq!(pats("status=503"), [r"[^=]*status=(?:503[^=]*|\x{1})"]);
    assert_eq!(pats(" status=503 "), ["status=503"]);
    assert_eq!(pats("a=b=c"), ["[^=]*a=b", r"b=(?:c[^=]*|\x{1})"]);
    assert_eq!(pats("x.y=1.5"), ["y=1"]);
    assert_eq!(pats("é=ü"), [r"[^=]*é=(?:ü[^=]*|\x{1})"]);
    assert_eq!(pats("a.b=c"), [r"b=(?:c[^=]*|\x{1})"]);
    assert_eq!(pats(" id=0123456789ab "), ["id=0123456789ab"]);
    let no_pairs = [
        "status=",
        "=503",
        "status =503",
        "a==b",
        "status",
        " id=0123456789abc ",
        "id=0123456789abc",
    ];
    for text in no_pairs {
        assert!(pats(text).is_empty(), "{text}");
    }
    let long = "k".repeat(MAX_TOKEN_BYTES + 1);
    assert!(pats(&format!("{long}=1")).is_empty());
}

#[test]
fn pair_filters_that_are_exact() {
    let exact = |re: &str| regex_terms(re).exact.map(|m| unprefixed(&m));
    assert_eq!(
        exact(r"status=5\d\d").as_deref(),
        Some(r"[^=]*status=\x{1}")
    );
    for re in [r"(?i)status=5\d\d", r"status=\d+", r"k=(v)", r"é=ü"] {
        assert!(exact(re).is_some(), "{re}");
    }
    // Anything around the pair (a bound, more text, an anchor) is left to verification.
    for re in [
        r" status=5\d\d",
        r"status=5\d\d ",
        r"a=b=c",
        r"^status=5",
        r"status=5\d\d.*",
        r"x status=5",
        r"status=5\d{20}",
        r"status=\d*",
    ] {
        assert!(exact(re).is_none(), "{re}");
    }
    let sub = |text: &str| {
        let toks: Vec<_> = argus_core::text::tokens(text).collect();
        let n = substring_pairs(text, &toks).len();
        substring_exact(text, &toks, n).map(|m| unprefixed(&m))
    };
    assert_eq!(sub("status=503").as_deref(), Some(r"[^=]*status=\x{1}"));
    for text in [
        " status=503",
        "status=503 ",
        "a=b=c",
        "status=0123456789abc",
    ] {
        assert!(sub(text).is_none(), "{text}");
    }
}

/// Pieces of logfmt-ish lines, with the traps of pair narrowing: keys that end in
/// `status`, other case, non-ASCII, values that start like `5\d\d` or are hex, `a=b=c`,
/// empty sides, and separators that do and do not end a token.
const KEYS: [&str; 10] = [
    "status",
    "http_status",
    "STATUS",
    "Status",
    "code",
    "a",
    "b",
    "é",
    "x_1",
    "ſtatus",
];
const VALUES: [&str; 16] = [
    "503",
    "500",
    "200",
    "404",
    "5٠٣",
    "5031",
    "50",
    "b",
    "c",
    "5a",
    "error",
    "ü",
    "",
    "5031234567890",
    "50312345678",
    "5٠٣٣٣٣٣",
];
const JOINS: [&str; 7] = ["=", "=", "=", "==", " = ", ":", "=-"];
const SEPS: [&str; 8] = [" ", " ", "=", ".", "-", "\"", "", "\n"];

fn line_of(parts: &[(usize, usize, usize, usize)]) -> String {
    let mut line = String::new();
    for &(k, j, v, sep) in parts {
        line.push_str(KEYS[k % KEYS.len()]);
        line.push_str(JOINS[j % JOINS.len()]);
        line.push_str(VALUES[v % VALUES.len()]);
        line.push_str(SEPS[sep % SEPS.len()]);
    }
    line
}

/// Line regexes whose term patterns are checked against every line they match.
const REGEXES: [&str; 26] = [
    r"status=5\d+ ",
    r"status=\d{12}",
    r"status=5\d{11}",
    r"=5[0-9]{10}\b",
    r"status=5\d\d",
    r"(?i)status=5\d\d",
    r" status=5\d\d",
    r"status=5\d\d ",
    r"status=5\d{2}\b",
    r"^status=5",
    r"a=b=c",
    r"b=c",
    r"=b=",
    r"status=\d*",
    r"status=\d+",
    r"\w=5\d\d",
    r"é=ü",
    r"x_1=[a-z]+",
    r"code=5[0-9a-f]",
    r"tatus=50",
    r"s=5٠",
    r"(?i)é=Ü",
    r"[sS]tatus=(5)\d",
    r"a=b.c=",
    r"status=5\d\d.*code=",
    r"\d=\d",
];

/// The pair terms the index holds for a line (with their prefix).
fn pair_terms(line: &str) -> Vec<String> {
    use tantivy::tokenizer::TokenStream as _;
    let mut a = hex_pair_analyzer();
    let mut s = a.token_stream(line);
    let mut out = Vec::new();
    while s.advance() {
        if s.token().text.starts_with(PAIR_PREFIX) {
            out.push(s.token().text.clone());
        }
    }
    out
}

/// Whether the line's terms satisfy every term pattern of the filter, as the index
/// would: a token pattern fully matches one of its tokens (a word one for a word-only
/// pattern), a pair pattern fully matches one of its pair terms.
fn terms_hold(line: &str, tokens: &[(String, bool)], pairs: &[String]) -> bool {
    let toks: Vec<&str> = argus_core::text::tokens(line).map(|t| t.1).collect();
    let pair_terms = pair_terms(line);
    tokens.iter().all(|(p, word)| {
        let re = full(p);
        toks.iter()
            .any(|t| (!word || !is_hex_token(t)) && re.is_match(t))
    }) && pairs.iter().all(|p| {
        let re = full(p);
        pair_terms.iter().any(|t| re.is_match(t))
    })
}

/// For a filter the plan calls exact but for marked lines: whether the index decides
/// this line (no over-long token, no pair term matching the mark pattern).
fn decided(line: &str, mark: &str) -> bool {
    let mark = full(mark);
    argus_core::text::tokens(line).all(|t| t.1.len() <= MAX_TOKEN_BYTES)
        && !pair_terms(line).iter().any(|t| mark.is_match(t))
}

proptest::proptest! {
    /// The narrowing is a superset: every line a filter matches has the terms its plan
    /// requires (a regex from the list or made of a piece of the line, or a substring of
    /// the line or of one of its pairs); and where the plan calls a filter exact, a line
    /// the index decides has the terms only if it matches.
    #[test]
    fn narrowing_never_drops_a_true_match(
        parts in proptest::collection::vec(
            (0..100usize, 0..100usize, 0..100usize, 0..100usize),
            1..8,
        ),
        cut in (0..200usize, 0..200usize, 0..200usize),
    ) {
        let line = line_of(&parts);
        let cut_of = |s: &str, a: usize, b: usize| {
            let chars: Vec<usize> = s.char_indices().map(|c| c.0).chain([s.len()]).collect();
            let (a, b) = (chars[a % chars.len()], chars[b % chars.len()]);
            s[a.min(b)..a.max(b)].to_string()
        };
        let piece = cut_of(&line, cut.0, cut.1);
        // A piece of a pair: the end of its key, `=`, the start of its value.
        let pairs_of_line: Vec<String> = pair_terms(&line)
            .into_iter()
            .filter(|t| !t.contains('\u{1}'))
            .map(|t| t[PAIR_PREFIX.len_utf8()..].to_string())
            .collect();
        let pair_piece = match pairs_of_line.get(cut.0 % pairs_of_line.len().max(1)) {
            Some(t) => {
                let (k, v) = t.split_once('=').expect("a pair term holds `=`");
                let k = cut_of(k, cut.1, k.len());
                let v = cut_of(v, 0, cut.2);
                format!("{}={}", k, v)
            }
            None => piece.clone(),
        };
        let escaped = [regex::escape(&piece), regex::escape(&pair_piece)];
        for re in REGEXES.iter().copied().chain(escaped.iter().map(|s| s.as_str())) {
            let matches = regex::Regex::new(re).expect("valid regex").is_match(&line);
            let t = regex_terms(re);
            let tokens: Vec<(String, bool)> =
                t.tokens.into_iter().map(|(p, w, _)| (p, w)).collect();
            let pairs: Vec<String> = t.pairs.into_iter().map(|p| p.0).collect();
            let hold = terms_hold(&line, &tokens, &pairs);
            proptest::prop_assert!(
                !matches || hold,
                "regex {:?} matches {:?} but its terms {:?} {:?} do not", re, line, tokens, pairs
            );
            if let Some(mark) = t.exact.filter(|m| decided(&line, m)) {
                proptest::prop_assert!(
                    matches || !hold,
                    "exact regex {:?} does not match {:?} but its pair {:?} does (mark {})",
                    re, line, pairs, mark
                );
            }
        }
        for text in [&piece, &pair_piece] {
            let matches = line.contains(text.as_str());
            let toks: Vec<_> = argus_core::text::tokens(text).collect();
            let pairs: Vec<String> =
                substring_pairs(text, &toks).into_iter().map(|p| p.0).collect();
            let hold = terms_hold(&line, &[], &pairs);
            proptest::prop_assert!(
                !matches || hold,
                "substring {:?} of {:?}: its pairs {:?} do not hold", text, line, pairs
            );
            let exact = substring_exact(text, &toks, pairs.len());
            if let Some(mark) = exact.filter(|m| decided(&line, m)) {
                proptest::prop_assert!(
                    matches || !hold,
                    "exact substring {:?} is not in {:?} but its pair {:?} is (mark {})",
                    text, line, pairs, mark
                );
            }
        }
    }
}
