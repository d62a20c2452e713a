// RecordScan — counting a CSV/TSV's records while its chunks stream through the archiver:
// line breaks outside quoted fields (RFC 4180, as `TableReader` reads them), blank lines not
// counted. Exact, and mostly parallel: see `QuoteScanner.speculate`.
import Glibc

/// Finds the record ends of a CSV/TSV stream as `TableReader` reads it: a double quote at the
/// start of a field opens a quoted field, where line breaks are data and a doubled quote is
/// one quote; the next single quote closes it. A quote inside an unquoted field is data.
struct QuoteScanner {
    let separator: UInt8
    private(set) var inQuotes = false
    /// Inside quotes, the last byte was a quote: closing, or the first of a doubled pair.
    private var pendingQuote = false
    /// The next byte starts a field (start of file, after a separator or a line break).
    private var atFieldStart = true
    /// Records with content ended so far (see `finish` for the last one).
    private(set) var records: UInt64 = 0
    /// What the current line holds so far: a line of nothing or of a lone CR (the CR of its
    /// CRLF) is blank, no record; anything else (a quote, a separator, a space) is content.
    private var line = LineState.empty
    enum LineState { case empty, cr, content }

    init(separator: UInt8) { self.separator = separator }

    /// Everything but the count: what the scan of the next bytes depends on.
    struct State: Equatable {
        var inQuotes: Bool, pendingQuote: Bool, atFieldStart: Bool, line: LineState
    }
    var state: State { State(inQuotes: inQuotes, pendingQuote: pendingQuote, atFieldStart: atFieldStart, line: line) }

    /// Speculation, so quoted chunks are scanned on all cores: the scanner at a chunk's
    /// start *if* that start is outside quotes, which the one or two bytes before it then
    /// decide (`before`, `last`: the chunk's start follows them). Its `records` start at 0.
    /// The archiver scans each quoted chunk from this guess in parallel and, in file order,
    /// takes the result only where the true state at the chunk's start equals the guess
    /// (the scan depends on nothing else); a chunk starting inside quotes is scanned again.
    static func guess(separator: UInt8, before: UInt8?, last: UInt8) -> QuoteScanner {
        var q = QuoteScanner(separator: separator)
        q.atFieldStart = last == 0x0A || last == separator
        q.line = last == 0x0A ? .empty : (last == 0x0D && (before == nil || before == 0x0A)) ? .cr : .content
        return q
    }

    /// Continues with `guessed`'s scan of the next chunk, made from this scanner's state.
    mutating func take(_ guessed: QuoteScanner) {
        precondition(guessed.records <= UInt64.max - records)
        let r = records + guessed.records
        self = guessed
        records = r
    }

    /// A chunk without quotes, its line breaks (and, when known, the blank lines between two
    /// of them, `countBlankLines`) already counted: only the state moves on.
    mutating func skip(_ chunk: UnsafeRawBufferPointer, lineBreaks: UInt64, blanks: UInt64? = nil) -> UInt64 {
        guard let base = chunk.baseAddress, let last = chunk.last else { return lineBreaks }
        if lineBreaks == 0 {
            feed(chunk[...])
        } else {
            let first = UnsafeRawPointer(memchr(base, 0x0A, chunk.count)!) - base
            feed(chunk[0..<first])
            endLine()
            records += lineBreaks - 1 - (blanks ?? countBlankLines(in: chunk))
            var lastBreak = chunk.count - 1
            while chunk[lastBreak] != 0x0A { lastBreak -= 1 }   // there is one: lineBreaks > 0
            line = .empty
            feed(chunk[(lastBreak + 1)...])
        }
        atFieldStart = last == 0x0A || last == separator
        return lineBreaks
    }

    /// Bytes of one line (no line break among them).
    private mutating func feed(_ bytes: Slice<UnsafeRawBufferPointer>) {
        for c in bytes {
            if line == .content { return }
            line = c == 0x0D && line == .empty ? .cr : .content
        }
    }

    private mutating func endLine() {
        if line == .content { records += 1 }
        line = .empty
    }

    /// At the end of the file: a last line with content and no line break is a record.
    mutating func finish() { endLine() }

    /// Line breaks outside quoted fields in `chunk`, byte by byte.
    mutating func scan(_ chunk: UnsafeRawBufferPointer) -> UInt64 {
        var n: UInt64 = 0
        for c in chunk {
            if inQuotes {
                if pendingQuote {
                    pendingQuote = false
                    if c == 0x22 { continue }          // a doubled quote: still inside
                    inQuotes = false                   // it closed: `c` is outside
                } else {
                    if c == 0x22 { pendingQuote = true }
                    continue
                }
            }
            if c == 0x0A {
                n += 1
                endLine()
                atFieldStart = true
                continue
            }
            line = c == 0x0D && line == .empty ? .cr : .content
            if c == separator {
                atFieldStart = true
            } else if c == 0x22 && atFieldStart {
                inQuotes = true
                atFieldStart = false
            } else {
                atFieldStart = false
            }
        }
        return n
    }

    /// At the end of the file, a quote just seen closes its field.
    var endsInsideQuotes: Bool { inQuotes && !pendingQuote }
}

/// Blank lines (nothing, or a lone CR, before the line break) that start after a line break
/// of `buf`: those starting before it are the caller's (`QuoteScanner.skip`).
func countBlankLines(in buf: UnsafeRawBufferPointer) -> UInt64 { lineBreaksAndBlanks(in: buf).blanks }

/// Line breaks of `buf`, and its blank lines as `countBlankLines` counts them, in one pass.
func lineBreaksAndBlanks(in buf: UnsafeRawBufferPointer) -> (breaks: UInt64, blanks: UInt64) {
    guard var p = buf.baseAddress else { return (0, 0) }
    let start = p, end = p + buf.count
    var n: UInt64 = 0, blanks: UInt64 = 0
    while p < end, let hit = memchr(p, 0x0A, end - p) {
        let at = UnsafeRawPointer(hit) - start
        n += 1
        if at >= 1 && buf[at - 1] == 0x0A { blanks += 1 }
        else if at >= 2 && buf[at - 1] == 0x0D && buf[at - 2] == 0x0A { blanks += 1 }
        p = UnsafeRawPointer(hit) + 1
    }
    return (n, blanks)
}

/// How many times `byte` occurs in `buf` (memchr skips ahead with vector instructions).
func countByte(_ byte: UInt8, in buf: UnsafeRawBufferPointer) -> UInt64 {
    guard var p = buf.baseAddress else { return 0 }
    let end = p + buf.count
    var n: UInt64 = 0
    while p < end, let hit = memchr(p, Int32(byte), end - p) {
        n += 1
        p = UnsafeRawPointer(hit) + 1
    }
    return n
}
