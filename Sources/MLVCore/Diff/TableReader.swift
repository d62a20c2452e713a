// Reading delimited tables (CSV, TSV) a record at a time within `TableLimits`, sniffing a
// header and a format from the first bytes (`TableFormat`).
import MLVSystem
import MLVStore

/// How much of one table mlv compares. Past these, `mlv diff` shows a byte-level summary with
/// a warning instead of a table diff (see `DiffError.tooWide`), and a metrics CSV is refused.
enum TableLimits {
    /// Columns (CSV/TSV header fields, JSON Lines keys). Each column costs a profile per side
    /// (a 4 KiB HyperLogLog, a reservoir of up to 4,096 values, up to 2,000 category counts):
    /// 10,000 columns keep the fixed part to 80 MiB. A table that wide is a matrix (pixels,
    /// one-hot features, genomics) whose per-column statistics nobody reads column by column.
    static let maxColumns = 10_000
    /// Bytes of one record (a CSV/TSV row, quoted line breaks included, or a JSON Lines line):
    /// the reader holds a whole record in memory, and JSON Lines parses it as one object.
    static let maxRecordBytes = 16 << 20
}

/// Streams the records of a CSV or TSV file (RFC 4180: quoted fields may hold separators,
/// doubled quotes and line breaks, whose bytes are kept as they are, CR LF included; records
/// end with CRLF or LF; an optional UTF-8 BOM). Blank lines (nothing, or a lone CR, before the
/// line break) are no records, anywhere; a line `""` is one empty field. The first record is
/// the header, unless `detectHeaderless` and `sniffTable` finds it is data: then it is the
/// first row and the columns are named `column_1`, `column_2`, …. Every record must have as
/// many fields as the header: a ragged row is an error naming the file and line.
final class TableReader {
    let name: String
    let separator: UInt8
    private let stream: ByteStream
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var pos = 0
    private var atEnd = false
    private var started = false
    /// Physical line the current record started on (1-based).
    private(set) var line = 0
    private var nextLine = 1
    private(set) var header: [String] = []
    /// The first record was data, not names (see `firstRowIsData`).
    private(set) var headerless = false
    private var firstRecordPending = false

    /// The current record: field i is `bytes[starts[i]..<ends[i]]` (quotes removed).
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [Int] = []
    private(set) var ends: [Int] = []
    /// The current record is a blank line (no byte, no quote, no separator).
    private var blank = false
    /// The current record ended at a line break (not at the end of the stream).
    private(set) var endedAtLineBreak = false

    private let maxColumns: Int
    private let maxRecordBytes: Int

    init(stream: ByteStream, name: String, separator: UInt8, detectHeaderless: Bool = false,
         maxColumns: Int = TableLimits.maxColumns, maxRecordBytes: Int = TableLimits.maxRecordBytes) throws {
        self.name = name
        self.separator = separator
        self.maxColumns = maxColumns
        self.maxRecordBytes = maxRecordBytes
        var firstIsData = false
        if detectHeaderless {
            // The decision reads the file's first `Archiver.headLimit` bytes only, as the
            // pointer's row count does from the same bytes: the two always agree.
            let prefixed = try PrefixedStream(stream, atLeast: Archiver.headLimit)
            firstIsData = sniffTable(head: prefixed.head(Archiver.headLimit), complete: prefixed.complete,
                                     separator: separator).firstIsData
            self.stream = prefixed
        } else {
            self.stream = stream
        }
        bytes.reserveCapacity(4096)
        if try readNonBlankRecord() {
            if firstIsData {
                headerless = true
                firstRecordPending = true
                header = (1...starts.count).map { "column_\($0)" }
            } else {
                header = (0..<starts.count).map { String(decoding: bytes[starts[$0]..<ends[$0]], as: UTF8.self) }
            }
        }
    }

    var fieldCount: Int { starts.count }

    func field(_ i: Int) -> ArraySlice<UInt8> { bytes[starts[i]..<ends[i]] }

    func string(_ i: Int) -> String { String(decoding: field(i), as: UTF8.self) }

    @inline(__always) private func nextByte() throws -> UInt8? {
        if pos >= block.count {
            if atEnd { return nil }
            guard let b = try stream.next() else { atEnd = true; return nil }
            block = b
            pos = 0
            if b.isEmpty { return try nextByte() }
        }
        let c = block[pos]
        pos += 1
        return c
    }

    @inline(__always) private func peekByte() throws -> UInt8? {
        guard let c = try nextByte() else { return nil }
        pos -= 1
        return c
    }

    private func isLineEndAhead() throws -> Bool {
        let n = try peekByte()
        return n == nil || n == 0x0A
    }

    /// Reads the next data record; false at the end of the file.
    func next() throws -> Bool {
        if firstRecordPending {
            firstRecordPending = false
            return true
        }
        while try readNonBlankRecord() {
            if fieldCount == header.count { return true }
            throw DiffError.malformed(file: name, line: line,
                                      why: "\(counted(fieldCount, "field")) where the header has \(header.count) (a ragged row; quote fields that contain '\(Character(UnicodeScalar(separator)))')")
        }
        return false
    }

    /// Reads the next record that is not a blank line, whatever its field count.
    fileprivate func readNonBlankRecord() throws -> Bool {
        while try readRecord() {
            if !blank { return true }
        }
        return false
    }

    private func readRecord() throws -> Bool {
        blank = true
        endedAtLineBreak = false
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        line = nextLine
        if !started {
            started = true
            // A UTF-8 byte order mark is not part of the first column's name.
            if try peekByte() == 0xEF {
                _ = try nextByte()
                if try nextByte() != 0xBB || nextByte() != 0xBF { throw DiffError.malformed(file: name, line: 1, why: "not UTF-8 text") }
            }
        }
        guard try peekByte() != nil else { return false }
        starts.append(0)
        var quoted = false
        var fieldStart = true        // at the first byte of a field (where a quote opens it)
        let quoteLine = line
        let sep = separator
        while true {
            if pos >= block.count {
                if atEnd { break }
                guard let b = try stream.next() else { atEnd = true; break }
                block = b
                pos = 0
                continue
            }
            if !quoted {
                // Plain bytes up to the next special one are copied in one go.
                let start = pos
                var i = pos
                let n = block.count
                while i < n {
                    let c = block[i]
                    if c == sep || c == 0x0A || c == 0x0D || c == 0x22 { break }
                    i += 1
                }
                if i > start {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start..<i]))
                    fieldStart = false
                    if bytes.count > maxRecordBytes { throw recordTooLarge() }
                }
                pos = i
                if i == n { continue }
                let c = block[i]
                pos += 1
                if c == sep {
                    ends.append(bytes.count)
                    starts.append(bytes.count)
                    fieldStart = true
                    if starts.count > maxColumns {
                        throw DiffError.tooWide(file: name, why: "line \(line) has more than \(maxColumns) fields, the most mlv compares")
                    }
                } else if c == 0x0A {
                    nextLine += 1
                    ends.append(bytes.count)
                    blank = blank && starts.count == 1 && bytes.isEmpty
                    endedAtLineBreak = true
                    return true
                } else if c == 0x0D {
                    if try isLineEndAhead() { continue }     // CR of a CRLF line end
                    bytes.append(c)
                    fieldStart = false
                } else if fieldStart {
                    quoted = true                            // an opening quote
                    fieldStart = false
                    blank = false
                } else {
                    bytes.append(c)                          // a stray quote inside a plain field
                }
            } else {
                let c = block[pos]
                pos += 1
                if c == 0x22 {
                    if try peekByte() == 0x22 {
                        _ = try nextByte()
                        bytes.append(c)
                    } else {
                        quoted = false
                    }
                } else {
                    if c == 0x0A { nextLine += 1 }
                    bytes.append(c)
                    if bytes.count > maxRecordBytes { throw recordTooLarge() }
                }
            }
        }
        if bytes.count > maxRecordBytes { throw recordTooLarge() }
        if quoted { throw DiffError.malformed(file: name, line: quoteLine, why: "a quoted field is never closed") }
        ends.append(bytes.count)
        blank = blank && starts.count == 1 && bytes.isEmpty
        return true
    }

    private func recordTooLarge() -> DiffError {
        DiffError.tooWide(file: name, why: "the record at line \(line) is larger than \(maxRecordBytes >> 20) MiB, the most mlv compares")
    }
}

/// What the first bytes of a CSV/TSV say: whether its first record is data (`firstRowIsData`,
/// on the records that end inside `head`, at most `sampleRows` after the first) and its
/// column count (the first record's fields; nil when it does not end inside `head`).
/// `complete`: `head` is the whole file. The one place both `mlv diff` (`TableReader`) and
/// pointers (`tableShape`) decide this, on the same bytes.
func sniffTable(head: [UInt8], complete: Bool, separator: UInt8) -> (firstIsData: Bool, columns: Int?) {
    let r: TableReader
    do {
        // No width or record budget: `head` bounds the work, and the pointer's column count
        // stays exact past them (the real reader refuses such a table with its own error).
        r = try TableReader(stream: MemoryStream(head), name: "", separator: separator, maxColumns: .max, maxRecordBytes: .max)
    } catch {
        return (false, nil)   // the real reader reports it
    }
    guard !r.header.isEmpty, r.endedAtLineBreak || complete else { return (false, nil) }
    let first = (0..<r.fieldCount).map { Array(r.field($0)) }
    var rows: [[[UInt8]]] = []
    while rows.count < sampleRows {
        // A record cut at the end of `head` is not in the sample; errors end it (the real
        // reader reports them where they are).
        guard (try? r.readNonBlankRecord()) == true, r.endedAtLineBreak || complete else { break }
        if r.fieldCount == first.count { rows.append((0..<r.fieldCount).map { Array(r.field($0)) }) }
    }
    return (firstRowIsData(first, rows: rows), first.count)
}

/// Rows after the first that `sniffTable` compares it with (Python's `csv.Sniffer` checks 21).
let sampleRows = 20

/// Whether a table's first record is data rather than column names, by the types of the rows
/// after it, in the spirit of Python's `csv.Sniffer.has_header`: a header differs in type from
/// its column's values. Per column (nulls, see `isNull`, ignored): when the sampled values
/// are all numbers and the first field is not, it is a header (`x1` over numbers, `species`
/// over lengths); a number there votes for data; when they are all text of one length, the
/// first field votes header if its length differs, data if not. More data votes than
/// header votes: data (iris, adult: numbers and a class column). No votes either way (a
/// one-line file, text columns of varied lengths): data only when every field is a number.
/// Sniffer differs in three places, by choice: a missing value in a column does not take
/// the column out of the vote; a tie is a header (Sniffer: no header, so a table of names
/// and cities lost its header); a single line of numbers is a row (Sniffer: a header).
/// Undecidable by types, and read as data as Sniffer does: a header of numbers over numeric
/// columns (years), also beside text columns (`country,1990,1991`): the columns are then
/// `column_1`, … and the header one more row — visible, never attributed to a named column.
func firstRowIsData(_ first: [[UInt8]], rows: [[[UInt8]]]) -> Bool {
    // Python's complex() and float() ignore surrounding spaces (adult.data has `, 39`).
    func number(_ v: [UInt8]) -> Bool {
        let t = v.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }
        return parseNumber(ArraySlice(t.reversed())) != nil
    }
    func length(_ v: [UInt8]) -> Int { String(decoding: v, as: UTF8.self).unicodeScalars.count }
    var votes = 0
    for (j, f) in first.enumerated() where !isNull(f[...]) {
        var numbers = 0, texts = 0
        var textLength: Int? = nil, oneLength = true
        for r in rows where !isNull(r[j][...]) {
            if number(r[j]) { numbers += 1; continue }
            texts += 1
            let l = length(r[j])
            if textLength == nil { textLength = l } else if textLength != l { oneLength = false }
        }
        let isNumber = number(f)
        if numbers > 0 && texts == 0 {
            if !isNumber { return false }
            votes -= 1
        } else if texts > 0 && numbers == 0 && oneLength, let l = textLength, !isNumber {
            votes += length(f) == l ? -1 : 1
        }
    }
    if votes != 0 { return votes < 0 }
    return !first.isEmpty && first.allSatisfy(number)
}

/// A stream whose first bytes (at least `atLeast`, or all) were read ahead into `buffer`.
final class PrefixedStream: ByteStream {
    private let rest: ByteStream
    private var buffer: UnsafeMutableRawBufferPointer
    private var served = false
    /// The stream ended within `atLeast` bytes: the buffer is all of it.
    let complete: Bool

    init(_ stream: ByteStream, atLeast: Int) throws {
        rest = stream
        var bytes: [UInt8] = []
        var ended = false
        while bytes.count <= atLeast {
            guard let b = try stream.next() else { ended = true; break }
            bytes.append(contentsOf: b)
        }
        complete = ended && bytes.count <= atLeast
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        buffer.copyBytes(from: bytes)
    }

    deinit { buffer.deallocate() }

    func head(_ limit: Int) -> [UInt8] { Array(buffer[0..<min(limit, buffer.count)]) }

    func next() throws -> UnsafeRawBufferPointer? {
        if !served {
            served = true
            if !buffer.isEmpty { return UnsafeRawBufferPointer(buffer) }
        }
        return try rest.next()
    }
}

/// How a tracked file is read as a table, by extension.
enum TableFormat {
    case delimited(UInt8)
    case jsonLines

    init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { self = .delimited(UInt8(ascii: ",")) }
        else if lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") { self = .delimited(UInt8(ascii: "\t")) }
        else if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { self = .jsonLines }
        else { return nil }
    }

    /// Guesses the format of a file without a telling extension from its first bytes: an
    /// object on the first line is JSON Lines; a first line with tabs (at least as many as
    /// commas) is TSV, with commas CSV. Binary data (a NUL byte) is no table.
    init?(sniffing head: UnsafeRawBufferPointer) {
        let bytes = head.prefix(64 * 1024)
        if bytes.contains(0) { return nil }
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else { return nil }
        if bytes[first] == UInt8(ascii: "{") {
            // JSON Lines only when two records show: one object on its first line, and a
            // second line that starts another. A JSON document (a model's weights, a
            // config, pretty-printed or on one line) is no table.
            let lines = bytes[first...].split(separator: 0x0A, maxSplits: 2, omittingEmptySubsequences: true)
            func trimmed(_ l: Slice<UnsafeRawBufferPointer>) -> [UInt8] {
                Array(l.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }.reversed())
            }
            guard lines.count >= 2, trimmed(lines[0]).last == UInt8(ascii: "}"),
                  trimmed(lines[1]).first == UInt8(ascii: "{") else { return nil }
            self = .jsonLines
            return
        }
        let line = bytes[first...].prefix { $0 != 0x0A }
        let tabs = line.filter { $0 == 0x09 }.count, commas = line.filter { $0 == UInt8(ascii: ",") }.count
        if tabs > 0 && tabs >= commas { self = .delimited(0x09) }
        else if commas > 0 { self = .delimited(UInt8(ascii: ",")) }
        else { return nil }
    }
}
