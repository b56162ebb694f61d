//! The tantivy schema of a log partition, chosen for logs: the message is indexed with
//! argus' tokenizer (case kept, doc ids only: no frequencies, no positions, since phrase
//! and substring filters are verified exactly) and stored once; Kubernetes fields are raw
//! terms; the timestamp and an ingest sequence number are fast fields for range, sort and
//! histogram without touching the doc store. Logfmt-style `key=value` pairs of the message
//! are also indexed as whole terms (in `message_hex`, see [`PAIR_PREFIX`]), so that a
//! filter like `status=5\d\d` narrows to the lines that hold such a pair rather than to
//! the lines that hold a `…status` token and, anywhere, a `5\d\d…` token.
//!
//! Schema history (a partition's own schema says which one wrote it; searches plan per
//! partition, see [`Fields::pairs`]): v1 indexed `message_hex` with [`HEX_TOKENIZER`], v2
//! with [`HEX_PAIR_TOKENIZER`], which adds the pair terms. The fields are the same.

use argus_core::{Level, Stream};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, SchemaBuilder, TextFieldIndexing, TextOptions, FAST, INDEXED,
    STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// Name under which the word-token [`LogTokenizer`] is registered.
pub const TOKENIZER: &str = "argus";
/// Name under which the hex/number-token [`LogTokenizer`] is registered.
pub const HEX_TOKENIZER: &str = "argus_hex";
/// Name under which the hex/number-token [`LogTokenizer`] that also emits the message's
/// `key=value` pairs is registered: what `message_hex` of a log partition uses since v2.
pub const HEX_PAIR_TOKENIZER: &str = "argus_hex_pairs";

/// Whether a token goes to the hex dictionary (`message_hex`): only `[0-9a-fA-F]`.
/// Numbers, ids, hashes and addresses are most of a log's distinct tokens; keeping them in
/// their own term dictionary keeps the word dictionary small, so a substring filter that
/// contains any other letter scans only the word dictionary.
pub fn is_hex_token(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Tokens longer than this are not indexed; the document gets [`LONG_TOKEN_MARK`] instead
/// so that substring filters still find it (by exact verification).
pub const MAX_TOKEN_BYTES: usize = 128;

/// The term that marks a message with a token over [`MAX_TOKEN_BYTES`].
pub const LONG_TOKEN_MARK: &str = "\u{1}long";

/// Pair values longer than this are indexed as [`LONG_VALUE_MARK`]: ids, hashes and
/// timestamps would make one term per line (`request_id=…` cost argus-bench e2e about a
/// tenth of its ingest rate), and a filter on such a value is narrowed well by the value's
/// own token already.
pub const MAX_PAIR_VALUE_BYTES: usize = 12;

/// The value of the pair term `\u{2}key=\u{1}` that stands for `key=<value>` when the
/// value is over [`MAX_PAIR_VALUE_BYTES`].
pub const LONG_VALUE_MARK: char = '\u{1}';

/// The first character of every pair term: pairs share the hex dictionary (one pass over
/// the message, one field), and the prefix keeps them apart. A regex over the pairs starts
/// with it, so the dictionary walk skips every other term; a token regex (`.*503.*`)
/// that matches a pair term matches a token of the same line, so the hex and word
/// queries stay exact.
pub const PAIR_PREFIX: char = '\u{2}';

/// The fields of a log partition.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub timestamp: Field,
    pub seq: Field,
    pub message: Field,
    /// The message's hex/number tokens (indexed only) and, since schema v2, its pair terms
    /// ([`PAIR_PREFIX`]).
    pub message_hex: Field,
    pub namespace: Field,
    pub pod: Field,
    pub container: Field,
    /// Node, stream and level are columns, not terms: they have few values, every record
    /// has one, and as terms they cost a tenth of indexing (argus-bench e2e). Matchers on
    /// them are checked against the columns while collecting.
    pub node: Field,
    /// [`stream_code`].
    pub stream: Field,
    /// [`level_code`].
    pub level: Field,
    pub pod_uid: Field,
    pub restart: Field,
    pub file_path: Field,
    /// Pod and stream labels as `name=value` terms.
    pub labels: Field,
    /// The field holding the message's `key=value` pair terms (`message_hex`, see
    /// [`HEX_PAIR_TOKENIZER`]); `None` for a partition written before they existed (schema
    /// v1), which is then planned without them.
    pub pairs: Option<Field>,
}

/// Every stream, in code order.
pub const STREAMS: [Stream; 2] = [Stream::Stdout, Stream::Stderr];
/// Every level, in code order.
pub const LEVELS: [Level; 7] = [
    Level::Unknown,
    Level::Trace,
    Level::Debug,
    Level::Info,
    Level::Warn,
    Level::Error,
    Level::Fatal,
];

/// The column value of a stream.
pub fn stream_code(s: Stream) -> u64 {
    STREAMS.iter().position(|x| *x == s).unwrap_or(0) as u64
}

/// The column value of a level.
pub fn level_code(l: Level) -> u64 {
    LEVELS.iter().position(|x| *x == l).unwrap_or(0) as u64
}

/// The two term fields of a message (word and hex dictionaries, see [`is_hex_token`]):
/// what the full-text part of a query plan needs. Shared by the log and event stores.
#[derive(Clone, Copy, Debug)]
pub struct TextFields {
    pub message: Field,
    pub message_hex: Field,
    /// The `key=value` pair terms, where the index has them (see [`Fields::pairs`]).
    pub pairs: Option<Field>,
}

impl Fields {
    /// The message's term fields.
    pub fn text(&self) -> TextFields {
        TextFields {
            message: self.message,
            message_hex: self.message_hex,
            pairs: self.pairs,
        }
    }
}

fn indexing(tokenizer: &str) -> TextFieldIndexing {
    TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(IndexRecordOption::Basic)
        .set_fieldnorms(false)
}

/// Adds `message` (argus' word tokenizer; stored when `stored`) and `message_hex` (hex
/// tokens, indexed only) to a schema: doc ids only, no positions, no field norms.
pub fn add_message_fields(b: &mut SchemaBuilder, stored: bool) -> TextFields {
    add_text_fields(b, stored, false)
}

/// [`add_message_fields`], with the pair terms in `message_hex` when `pairs`.
fn add_text_fields(b: &mut SchemaBuilder, stored: bool, pairs: bool) -> TextFields {
    let mut message_opts = TextOptions::default().set_indexing_options(indexing(TOKENIZER));
    if stored {
        message_opts = message_opts.set_stored();
    }
    let hex_tokenizer = if pairs {
        HEX_PAIR_TOKENIZER
    } else {
        HEX_TOKENIZER
    };
    let hex_opts = TextOptions::default().set_indexing_options(indexing(hex_tokenizer));
    // In this order: the field ids are part of the on-disk format.
    let message = b.add_text_field("message", message_opts);
    let message_hex = b.add_text_field("message_hex", hex_opts);
    TextFields {
        message,
        message_hex,
        pairs: pairs.then_some(message_hex),
    }
}

/// Registers [`TOKENIZER`], [`HEX_TOKENIZER`] and [`HEX_PAIR_TOKENIZER`] on an index.
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(TOKENIZER, analyzer());
    index.tokenizers().register(HEX_TOKENIZER, hex_analyzer());
    index
        .tokenizers()
        .register(HEX_PAIR_TOKENIZER, hex_pair_analyzer());
}

/// The field of a schema's pair terms: `message_hex` when its tokenizer is
/// [`HEX_PAIR_TOKENIZER`] (schema v2), else none.
pub fn pairs_field(schema: &Schema, message_hex: Field) -> Option<Field> {
    match schema.get_field_entry(message_hex).field_type() {
        tantivy::schema::FieldType::Str(o) => o
            .get_indexing_options()
            .filter(|i| i.tokenizer() == HEX_PAIR_TOKENIZER)
            .map(|_| message_hex),
        _ => None,
    }
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    build_with(true)
}

/// The schema before pair terms (v1): what older partitions were written with.
#[cfg(test)]
pub fn build_v1() -> (Schema, Fields) {
    build_with(false)
}

fn build_with(pairs: bool) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let timestamp = b.add_i64_field("timestamp", FAST);
    let seq = b.add_u64_field("seq", FAST);
    let text = add_text_fields(&mut b, true, pairs);
    let fields = Fields {
        timestamp,
        seq,
        message: text.message,
        message_hex: text.message_hex,
        namespace: b.add_text_field("namespace", STRING | FAST),
        pod: b.add_text_field("pod", STRING | FAST),
        container: b.add_text_field("container", STRING | FAST),
        node: b.add_text_field("node", TextOptions::default().set_fast("raw")),
        stream: b.add_u64_field("stream", FAST),
        level: b.add_u64_field("level", FAST),
        pod_uid: b.add_text_field("pod_uid", FAST),
        restart: b.add_u64_field("restart", STORED | INDEXED),
        file_path: b.add_text_field("file_path", FAST),
        labels: b.add_text_field("labels", STRING | STORED),
        pairs: text.pairs,
    };
    (b.build(), fields)
}

/// The analyzer registered as [`TOKENIZER`].
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::from(LogTokenizer {
        hex: false,
        pairs: false,
    })
}

/// The analyzer registered as [`HEX_TOKENIZER`].
pub fn hex_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(LogTokenizer {
        hex: true,
        pairs: false,
    })
}

/// The analyzer registered as [`HEX_PAIR_TOKENIZER`].
pub fn hex_pair_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(LogTokenizer {
        hex: true,
        pairs: true,
    })
}

/// Splits on [`argus_core::text`]'s token boundaries, keeping case, and keeps either the
/// word tokens or the hex tokens ([`is_hex_token`]).
///
/// With `pairs`, it also emits a term `\u{2}key=value` ([`PAIR_PREFIX`]) wherever a token
/// is immediately followed by `=` and another token: the maximal runs on both sides, so
/// `a=b=c d=e` gives `a=b`, `b=c` and `d=e`. A value over [`MAX_PAIR_VALUE_BYTES`] is
/// replaced by [`LONG_VALUE_MARK`] (`request_id=\u{1}`); a pair with a side over
/// [`MAX_TOKEN_BYTES`] is left out (the word field marks that line with
/// [`LONG_TOKEN_MARK`]). A pair term holds exactly one `=`, which is what lets a query
/// regex over these terms stop at the first `=` of a term whose key does not fit.
#[derive(Clone, Default)]
pub struct LogTokenizer {
    hex: bool,
    pairs: bool,
}

/// Token stream of [`LogTokenizer`].
pub struct LogTokenStream<'a> {
    text: &'a str,
    inner: argus_core::text::Tokens<'a>,
    token: Token,
    marked_long: bool,
    emit_mark: bool,
    hex: bool,
    pairs: bool,
    /// The previous token's byte range (any class, any length).
    prev: Option<(usize, usize)>,
    /// A pair found with the current token, emitted on the next call: (key start, value
    /// end).
    pending: Option<(usize, usize)>,
}

impl Tokenizer for LogTokenizer {
    type TokenStream<'a> = LogTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> LogTokenStream<'a> {
        LogTokenStream {
            text,
            inner: argus_core::text::tokens(text),
            token: Token::default(),
            marked_long: false,
            emit_mark: false,
            hex: self.hex,
            pairs: self.pairs,
            prev: None,
            pending: None,
        }
    }
}

impl LogTokenStream<'_> {
    fn emit_pair(&mut self, start: usize, end: usize) {
        let text = self.text;
        let eq = start + text[start..end].find('=').unwrap_or(0);
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.text.clear();
        self.token.text.push(PAIR_PREFIX);
        if end - eq - 1 > MAX_PAIR_VALUE_BYTES {
            self.token.text.push_str(&text[start..=eq]);
            self.token.text.push(LONG_VALUE_MARK);
        } else {
            self.token.text.push_str(&text[start..end]);
        }
    }
}

impl TokenStream for LogTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.emit_mark {
            self.emit_mark = false;
            self.token.text.clear();
            self.token.text.push_str(LONG_TOKEN_MARK);
            self.token.position = self.token.position.wrapping_add(1);
            return true;
        }
        if let Some((start, end)) = self.pending.take() {
            self.emit_pair(start, end);
            return true;
        }
        loop {
            let Some((off, tok)) = self.inner.next() else {
                return false;
            };
            let end = off + tok.len();
            if self.pairs {
                let prev = self.prev.replace((off, end));
                if let Some((ps, pe)) = prev {
                    let joined = pe + 1 == off && self.text.as_bytes().get(pe) == Some(&b'=');
                    if joined && pe - ps <= MAX_TOKEN_BYTES && tok.len() <= MAX_TOKEN_BYTES {
                        self.pending = Some((ps, end));
                    }
                }
            }
            if tok.len() > MAX_TOKEN_BYTES {
                if !self.marked_long && !self.hex {
                    self.marked_long = true;
                    self.emit_mark = true;
                    return self.advance();
                }
                continue;
            }
            if is_hex_token(tok) != self.hex {
                if let Some((start, end)) = self.pending.take() {
                    self.emit_pair(start, end);
                    return true;
                }
                continue;
            }
            self.token.offset_from = off;
            self.token.offset_to = end;
            self.token.position = self.token.position.wrapping_add(1);
            self.token.text.clear();
            self.token.text.push_str(tok);
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair terms [`HEX_PAIR_TOKENIZER`] emits, without their prefix.
    fn pairs(text: &str) -> Vec<String> {
        let mut a = hex_pair_analyzer();
        let mut s = a.token_stream(text);
        let mut got = Vec::new();
        while s.advance() {
            if let Some(p) = s.token().text.strip_prefix(PAIR_PREFIX) {
                got.push(p.to_string());
            }
        }
        got
    }

    #[test]
    fn pair_tokenizer_emits_maximal_runs_around_each_equals_sign() {
        assert_eq!(
            pairs("level=error msg=\"x\" path=/a status=503 took=1.5s"),
            ["level=error", "status=503", "took=1"]
        );
        assert_eq!(pairs("a=b=c d=e"), ["a=b", "b=c", "d=e"]);
        assert_eq!(pairs("=a a= a==b = x=y="), ["x=y"]);
        assert_eq!(pairs("ts=2024-01-01 k:v=z.y"), ["ts=2024", "v=z"]);
        assert_eq!(pairs("clé=été naïve=5٠٣"), ["clé=été", "naïve=5٠٣"]);
        assert_eq!(pairs("é=é"), ["é=é"]);
        assert_eq!(
            pairs("id=0123456789ab id=0123456789abc é=ééééééé"),
            ["id=0123456789ab", "id=\u{1}", "é=\u{1}"]
        );
        assert_eq!(pairs(""), Vec::<String>::new());
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let ok = "y".repeat(MAX_TOKEN_BYTES);
        assert_eq!(
            pairs(&format!("{long}=1 a={long} {ok}={ok}")),
            [format!("{ok}=\u{1}")]
        );
    }

    #[test]
    fn tokenizer_keeps_case_splits_hex_and_marks_long_tokens() {
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let text = format!("GET /Api {long} {long} ok 404 deadBEEF req_1");
        let run = |mut a: TextAnalyzer| {
            let mut s = a.token_stream(&text);
            let mut got = Vec::new();
            while s.advance() {
                got.push(s.token().text.clone());
            }
            got
        };
        assert_eq!(
            run(analyzer()),
            ["GET", "Api", LONG_TOKEN_MARK, "ok", "req_1"]
        );
        assert_eq!(run(hex_analyzer()), ["404", "deadBEEF"]);
        // The pair tokenizer emits the same hex tokens, each pair after its value.
        let text = "GET a=b status=503 id=deadBEEF";
        let mut got = Vec::new();
        let mut a = hex_pair_analyzer();
        let mut s = a.token_stream(text);
        while s.advance() {
            got.push(s.token().text.clone());
        }
        assert_eq!(
            got,
            [
                "a",
                "b",
                "\u{2}a=b",
                "503",
                "\u{2}status=503",
                "deadBEEF",
                "\u{2}id=deadBEEF"
            ]
        );
    }
}
