// RecordScan — counting a CSV/TSV's records while its chunks stream through the archiver:
// line breaks outside quoted fields (RFC 4180, as `TableReader` reads them), blank lines not
// counted. Exact, mostly parallel (`QuoteScanner.guess`) and 64 bytes at a time
// (`QuoteScanner.scanWords`).
import Glibc
import MLVSystem

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

    /// The other guess, for a chunk the first guess cannot scan (`scanWords` declines): the
    /// scanner inside a quoted field, after its opening quote (which made the line content).
    static func insideQuotes(separator: UInt8) -> QuoteScanner {
        var q = QuoteScanner(separator: separator)
        q.inQuotes = true
        q.atFieldStart = false
        q.line = .content
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

    /// Line breaks outside quoted fields in `chunk`: 64 bytes at a time (`scanWords`) where
    /// every quote behaves as a toggle, else byte by byte (`scanBytes`).
    mutating func scan(_ chunk: UnsafeRawBufferPointer) -> UInt64 {
        if let n = scanWords(chunk) { return n }
        return scanBytes(chunk)
    }

    /// The fast path, exact where it answers: in 64-byte blocks, a mask of the quotes and one
    /// of the LFs, and the running parity of quotes, say which bytes are inside quoted fields
    /// (as simdjson and simdcsv find strings). Parity and the byte scan agree exactly when
    /// every quote that opens (parity goes 0 → 1) starts a field: it follows a separator, an
    /// LF, or a quote that closed (a doubled quote). A chunk with any other quote (a stray one
    /// inside an unquoted field, which is data) gives nil and nothing changed, and the caller
    /// scans it byte by byte.
    ///
    /// What the byte scan keeps is read off the masks: a record ends at each LF outside quotes
    /// unless its line is blank (the byte before is an LF, or a CR after an LF; adjacent
    /// bytes are equally inside or outside); `atFieldStart` comes from the last byte handled
    /// outside quotes, `line` from those after the last LF outside. The rare questions (what
    /// precedes an opening quote, a CR) are answered by reading the byte.
    mutating func scanWords(_ chunk: UnsafeRawBufferPointer) -> UInt64? {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return 0 }
        if separator == 0x22 || separator == 0x0A || separator == 0x0D { return nil }
        if inQuotes && atFieldStart { return nil }   // not a state the byte scan reaches
        let sep = separator
        // The byte before chunk[i] (i > 0), or what the state says of the bytes before it.
        let entryBoundary = !inQuotes && atFieldStart, entryClosing = inQuotes && pendingQuote
        let entryLine = line
        @inline(__always) func opensAField(_ i: Int, afterClosing: Bool) -> Bool {
            if i == 0 { return entryBoundary || entryClosing }
            let c = chunk[i - 1]
            return c == sep || c == 0x0A || afterClosing
        }
        /// An LF outside quotes at `i`, the byte before it not an LF: blank when that byte is
        /// a CR right after an LF (or the line so far is only a CR).
        @inline(__always) func crLineEnds(_ i: Int) -> Bool {
            if i == 0 { return entryLine == .cr }
            guard chunk[i - 1] == 0x0D else { return false }
            return i == 1 ? entryLine == .empty : chunk[i - 2] == 0x0A
        }
        var inside: UInt64 = inQuotes && !pendingQuote ? ~0 : 0
        var prevClosing: UInt64 = entryClosing ? 1 : 0
        var prevLF: UInt64 = entryLine == .empty ? 1 << 63 : 0   // the line so far is empty
        var line = entryLine, fieldStart = atFieldStart
        var breaks = 0, blanks = 0
        var endInside = false, endClosing = false
        var at = 0
        while at < chunk.count {
            let k = min(64, chunk.count - at)
            let m = k == 64 ? ClassMasks(base + at)
                            : withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { pad in
                                  pad.initializeMemory(as: UInt8.self, repeating: 0)
                                  pad.baseAddress!.copyMemory(from: base + at, byteCount: k)
                                  return ClassMasks(UnsafeRawPointer(pad.baseAddress!))
                              }
            let valid: UInt64 = k == 64 ? ~0 : (1 << UInt64(k)) - 1
            let p = prefixXor(m.quote) ^ inside          // bit set: inside after this byte
            let closing = m.quote & ~p
            var opening = m.quote & p
            while opening != 0 {
                let b = opening.trailingZeroBitCount
                let afterClosing = b == 0 ? prevClosing == 1 : (closing >> UInt64(b - 1)) & 1 == 1
                if !opensAField(at + b, afterClosing: afterClosing) { return nil }
                opening &= opening - 1
            }
            let lfOut = m.lf & ~p & valid
            if lfOut != 0 {
                breaks += lfOut.nonzeroBitCount
                let afterLF = m.lf << 1 | prevLF >> 63
                blanks += (lfOut & afterLF).nonzeroBitCount
                var rest = lfOut & ~afterLF
                while rest != 0 {
                    if crLineEnds(at + rest.trailingZeroBitCount) { blanks += 1 }
                    rest &= rest - 1
                }
            }
            let outside = ((~p & ~m.quote) | (m.quote & p)) & valid   // bytes the byte scan handles outside
            var after = outside
            if lfOut != 0 {
                line = .empty
                after = outside & (~0 << UInt64(64 - lfOut.leadingZeroBitCount))
            }
            if after != 0 && line != .content {
                line = after.nonzeroBitCount == 1 && line == .empty && chunk[at + after.trailingZeroBitCount] == 0x0D ? .cr : .content
            }
            if outside != 0 {
                let c = chunk[at + 63 - outside.leadingZeroBitCount]
                fieldStart = c == sep || c == 0x0A
            }
            endInside = (p >> UInt64(k - 1)) & 1 == 1
            endClosing = (closing >> UInt64(k - 1)) & 1 == 1
            inside = 0 &- (p >> 63)
            prevClosing = closing >> 63
            prevLF = m.lf
            at += k
        }
        inQuotes = endInside || endClosing
        pendingQuote = endClosing
        atFieldStart = fieldStart
        self.line = line
        records += UInt64(breaks - blanks)
        return UInt64(breaks)
    }

    /// Line breaks outside quoted fields in `chunk`, byte by byte: the definition.
    mutating func scanBytes(_ chunk: UnsafeRawBufferPointer) -> UInt64 {
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

/// Bit i set where byte i of 64 is a double quote, an LF.
private struct ClassMasks {
    var quote: UInt64 = 0, lf: UInt64 = 0

    @inline(__always) init(_ p: UnsafeRawPointer) {
        for k in 0..<8 {
            let w = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self))
            quote |= byteMask(w, 0x2222_2222_2222_2222) << UInt64(8 * k)
            lf |= byteMask(w, 0x0A0A_0A0A_0A0A_0A0A) << UInt64(8 * k)
        }
    }
}

/// Bit i (of 8) set where byte i of `w` equals the byte repeated in `c`: eight bytes at once
/// with no carry between them, then the bytes' top bits gathered by one multiplication.
@inline(__always) private func byteMask(_ w: UInt64, _ c: UInt64) -> UInt64 {
    let x = w ^ c
    let zero = ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x) & 0x8080_8080_8080_8080
    return ((zero >> 7) &* 0x0102_0408_1020_4080) >> 56
}

/// Bit i = xor of bits 0...i: the quote parity after each byte.
@inline(__always) private func prefixXor(_ v: UInt64) -> UInt64 {
    var x = v
    x ^= x << 1; x ^= x << 2; x ^= x << 4; x ^= x << 8; x ^= x << 16; x ^= x << 32
    return x
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

extension QuoteScanner.State {
    /// One byte (`RecordCache`): bit 0 inQuotes, bit 1 pendingQuote, bit 2 atFieldStart,
    /// bits 3–4 the line (0 empty, 1 a lone CR, 2 content).
    var code: UInt8 {
        (inQuotes ? 1 : 0) | (pendingQuote ? 2 : 0) | (atFieldStart ? 4 : 0)
            | (line == .empty ? 0 : line == .cr ? 8 : 16)
    }

    init?(code: UInt8) {
        guard code < 24 else { return nil }
        inQuotes = code & 1 != 0
        pendingQuote = code & 2 != 0
        atFieldStart = code & 4 != 0
        line = code >> 3 == 0 ? .empty : code >> 3 == 1 ? .cr : .content
    }
}

extension QuoteScanner {
    /// A scanner in `state` having counted `records`: a scan read back from `RecordCache`.
    init(separator: UInt8, state: State, records: UInt64) {
        self.separator = separator
        inQuotes = state.inQuotes
        pendingQuote = state.pendingQuote
        atFieldStart = state.atFieldStart
        line = state.line
        self.records = records
    }
}

/// What scanning a chunk from a given state does to a `QuoteScanner` (the state after it,
/// its line breaks outside quotes, its records), remembered by chunk id, so that a table
/// committed again after a small change scans only its new chunks. Sound because the scan is
/// a function of the chunk's bytes, which its SHA-256 names, the separator and the state it
/// starts in, which are the key.
///
/// Format (`.mlv/state/record-cache`, little-endian; a cache: anything unreadable is empty):
///   "MLVRECS\0" | u32 version (1) | u32 count
///   count x (32 chunk id | u8 separator | u8 entry state | u8 exit state | u8 0 |
///            u32 line breaks | u32 records)            (states: `QuoteScanner.State.code`)
///   32 SHA-256 of everything before it
/// At most `limit` entries are kept: those this session used first. In memory, at most twice
/// that, whatever the size of the tables read.
public final class RecordCache: @unchecked Sendable {
    struct Key: Hashable { var id: ObjectID, separator: UInt8, entry: UInt8 }
    struct Effect: Equatable { var exit: UInt8, breaks: UInt32, records: UInt32 }
    private var entries: [Key: Effect] = [:]
    /// Keys met this session (looked up in file order, or added).
    private var used: Set<Key> = []
    private var added = 0
    public static let limit = 1 << 17       // 8 GiB of tables in 64 KiB chunks; a 5.5 MiB file
    static let magic = Array("MLVRECS\0".utf8)
    static let entrySize = 44

    public init() {}

    public var count: Int { entries.count }

    /// The cache at `path`; empty when missing, damaged or of another version.
    public static func load(path: String) -> RecordCache {
        let c = RecordCache()
        // Only a regular file of a size a valid cache can have is read: a damaged one may be
        // anything, a link to /dev/zero or gigabytes.
        guard let st = FS.lstat(path), st.st_mode & S_IFMT == S_IFREG,
              st.st_size <= 16 + limit * entrySize + 32 else { return c }
        guard let bytes = try? FS.readAll(path), bytes.count >= 16 + 32,
              ObjectID.hash(Array(bytes[..<(bytes.count - 32)])).bytes == Array(bytes[(bytes.count - 32)...]) else { return c }
        var r = ByteReader(bytes)
        guard let m = r.readBytes(8), Array(m) == magic, r.read(UInt32.self) == 1, let n = r.read(UInt32.self),
              Int(n) * entrySize == r.remaining - 32 else { return c }
        c.entries.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let id = r.readID(), let f = r.readBytes(4),
                  let breaks = r.read(UInt32.self), let records = r.read(UInt32.self),
                  QuoteScanner.State(code: f[f.startIndex + 1]) != nil, QuoteScanner.State(code: f[f.startIndex + 2]) != nil
            else { return RecordCache() }
            c.entries[Key(id: id, separator: f[f.startIndex], entry: f[f.startIndex + 1])] =
                Effect(exit: f[f.startIndex + 2], breaks: breaks, records: records)
        }
        return c
    }

    /// The scan of chunk `id` from `entry`, when known. Read-only: safe from several threads
    /// while nothing is added.
    func effect(of id: ObjectID, separator: UInt8, from entry: QuoteScanner.State) -> (scanner: QuoteScanner, breaks: UInt64)? {
        guard let e = entries[Key(id: id, separator: separator, entry: entry.code)],
              let exit = QuoteScanner.State(code: e.exit) else { return nil }
        return (QuoteScanner(separator: separator, state: exit, records: UInt64(e.records)), UInt64(e.breaks))
    }

    /// Records a scan (or that a known one was used again). Not concurrent with `effect`.
    func remember(_ id: ObjectID, separator: UInt8, from entry: QuoteScanner.State, to exit: QuoteScanner.State,
                  breaks: UInt64, records: UInt64) {
        guard breaks <= UInt32.max, records <= UInt32.max else { return }
        let key = Key(id: id, separator: separator, entry: entry.code)
        // Memory stays bounded for a table of any size: past twice what is kept, only known
        // entries are marked (`save` keeps the used ones first).
        if entries.count >= 2 * RecordCache.limit && entries[key] == nil { return }
        used.insert(key)
        let e = Effect(exit: exit.code, breaks: UInt32(breaks), records: UInt32(records))
        if entries.updateValue(e, forKey: key) != e { added += 1 }
    }

    /// Writes the cache when this session added to it (temp file + rename, no fsync: losing
    /// it only costs a scan).
    public func save(path: String) throws {
        guard added > 0 else { return }
        var keep = Array(used.prefix(RecordCache.limit))
        if keep.count < RecordCache.limit {
            keep += entries.keys.lazy.filter { !self.used.contains($0) }.prefix(RecordCache.limit - keep.count)
        }
        var out = RecordCache.magic
        out.reserveCapacity(16 + keep.count * RecordCache.entrySize + 32)
        out.appendLE(UInt32(1))
        out.appendLE(UInt32(keep.count))
        for k in keep {
            let e = entries[k]!
            out.append(contentsOf: k.id.bytes)
            out.append(contentsOf: [k.separator, k.entry, e.exit, 0])
            out.appendLE(e.breaks)
            out.appendLE(e.records)
        }
        out.append(contentsOf: ObjectID.hash(out).bytes)
        try FS.atomicWrite(out, to: path, durable: false)
        added = 0
    }
}
