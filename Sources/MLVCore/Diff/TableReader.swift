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
/// end with CRLF or LF; an optional UTF-8 BOM). The first record is the header, unless
/// `detectHeaderless` and every field of it is a number (`1,2.5,3`): then it is the first row
/// and the columns are named `column_1`, `column_2`, … (see `isDataRow`). Every record must
/// have as many fields as the header: a ragged row is an error naming the file and line.
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
    /// The first record was data, not names (see `isDataRow`).
    private(set) var headerless = false
    private var firstRecordPending = false

    /// The current record: field i is `bytes[starts[i]..<ends[i]]` (quotes removed).
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [Int] = []
    private(set) var ends: [Int] = []

    private let maxColumns: Int
    private let maxRecordBytes: Int

    init(stream: ByteStream, name: String, separator: UInt8, detectHeaderless: Bool = false,
         maxColumns: Int = TableLimits.maxColumns, maxRecordBytes: Int = TableLimits.maxRecordBytes) throws {
        self.stream = stream
        self.name = name
        self.separator = separator
        self.maxColumns = maxColumns
        self.maxRecordBytes = maxRecordBytes
        bytes.reserveCapacity(4096)
        if try readRecord() {
            if detectHeaderless && isDataRow((0..<starts.count).map { bytes[starts[$0]..<ends[$0]] }) {
                headerless = true
                firstRecordPending = true
                header = (1...starts.count).map { "column_\($0)" }
            } else {
                header = (0..<starts.count).map { String(decoding: bytes[starts[$0]..<ends[$0]], as: UTF8.self) }
                if header.count == 1 && header[0].isEmpty { header = [] }
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
        while try readRecord() {
            if fieldCount == header.count { return true }
            if fieldCount == 1 && ends[0] == starts[0] { continue }   // a blank line
            throw DiffError.malformed(file: name, line: line,
                                      why: "\(counted(fieldCount, "field")) where the header has \(header.count) (a ragged row; quote fields that contain '\(Character(UnicodeScalar(separator)))')")
        }
        return false
    }

    private func readRecord() throws -> Bool {
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
                    return true
                } else if c == 0x0D {
                    if try isLineEndAhead() { continue }     // CR of a CRLF line end
                    bytes.append(c)
                    fieldStart = false
                } else if fieldStart {
                    quoted = true                            // an opening quote
                    fieldStart = false
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
        return true
    }

    private func recordTooLarge() -> DiffError {
        DiffError.tooWide(file: name, why: "the record at line \(line) is larger than \(maxRecordBytes >> 20) MiB, the most mlv compares")
    }
}

/// Whether a table's first record is data rather than column names: every field is a number.
/// Names are words; a first line like `1,2.5,3` is a row of a file without a header, and
/// reading it as names would attribute every column's statistics to its first value. (A
/// header of numbers only, such as years, is read as data too: then the columns are
/// `column_1`, … and the years one more row — visible, never misattributed.)
func isDataRow(_ fields: [ArraySlice<UInt8>]) -> Bool {
    !fields.isEmpty && fields.allSatisfy { parseNumber($0) != nil }
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
