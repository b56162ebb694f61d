//! The tantivy schema of a log partition, chosen for logs: the message is indexed with
//! argus' tokenizer (case kept, doc ids only: no frequencies, no positions, since phrase
//! and substring filters are verified exactly) and stored once; Kubernetes fields are raw
//! terms; the timestamp and an ingest sequence number are fast fields for range, sort and
//! histogram without touching the doc store.

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

/// The fields of a log partition.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub timestamp: Field,
    pub seq: Field,
    pub message: Field,
    /// The message's hex/number tokens (indexed only).
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
}

impl Fields {
    /// The message's term fields.
    pub fn text(&self) -> TextFields {
        TextFields {
            message: self.message,
            message_hex: self.message_hex,
        }
    }
}

/// Adds `message` (argus' word tokenizer; stored when `stored`) and `message_hex` (hex
/// tokens, indexed only) to a schema: doc ids only, no positions, no field norms.
pub fn add_message_fields(b: &mut SchemaBuilder, stored: bool) -> TextFields {
    let indexing = |tokenizer| {
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false)
    };
    let mut message_opts = TextOptions::default().set_indexing_options(indexing(TOKENIZER));
    if stored {
        message_opts = message_opts.set_stored();
    }
    let hex_opts = TextOptions::default().set_indexing_options(indexing(HEX_TOKENIZER));
    TextFields {
        message: b.add_text_field("message", message_opts),
        message_hex: b.add_text_field("message_hex", hex_opts),
    }
}

/// Registers [`TOKENIZER`] and [`HEX_TOKENIZER`] on an index.
pub fn register_tokenizers(index: &tantivy::Index) {
    index.tokenizers().register(TOKENIZER, analyzer());
    index.tokenizers().register(HEX_TOKENIZER, hex_analyzer());
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let timestamp = b.add_i64_field("timestamp", FAST);
    let seq = b.add_u64_field("seq", FAST);
    let text = add_message_fields(&mut b, true);
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
    };
    (b.build(), fields)
}

/// The analyzer registered as [`TOKENIZER`].
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::from(LogTokenizer { hex: false })
}

/// The analyzer registered as [`HEX_TOKENIZER`].
pub fn hex_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(LogTokenizer { hex: true })
}

/// Splits on [`argus_core::text`]'s token boundaries, keeping case, and keeps either the
/// word tokens or the hex tokens ([`is_hex_token`]).
#[derive(Clone, Default)]
pub struct LogTokenizer {
    hex: bool,
}

/// Token stream of [`LogTokenizer`].
pub struct LogTokenStream<'a> {
    inner: argus_core::text::Tokens<'a>,
    token: Token,
    marked_long: bool,
    emit_mark: bool,
    hex: bool,
}

impl Tokenizer for LogTokenizer {
    type TokenStream<'a> = LogTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> LogTokenStream<'a> {
        LogTokenStream {
            inner: argus_core::text::tokens(text),
            token: Token::default(),
            marked_long: false,
            emit_mark: false,
            hex: self.hex,
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
        for (off, tok) in self.inner.by_ref() {
            if tok.len() > MAX_TOKEN_BYTES {
                if !self.marked_long && !self.hex {
                    self.marked_long = true;
                    self.emit_mark = true;
                    return self.advance();
                }
                continue;
            }
            if is_hex_token(tok) != self.hex {
                continue;
            }
            self.token.offset_from = off;
            self.token.offset_to = off + tok.len();
            self.token.position = self.token.position.wrapping_add(1);
            self.token.text.clear();
            self.token.text.push_str(tok);
            return true;
        }
        false
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
    }
}
