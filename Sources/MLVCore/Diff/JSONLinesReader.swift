// Rows of a table whatever its format (`RowSource`), the JSON Lines reader, and the line reader
// under it.
import Foundation

/// Rows of a table, whatever the file format.
protocol RowSource: AnyObject {
    var header: [String] { get }
    /// Physical line the current row started on (1-based).
    var line: Int { get }
    func next() throws -> Bool
    func field(_ i: Int) -> ArraySlice<UInt8>
    func string(_ i: Int) -> String
}

extension TableReader: RowSource {}

/// JSON Lines: one JSON object per line; lines of only spaces, tabs and CRs are skipped. The
/// columns are the union of the objects' keys in order of first appearance (a key first seen
/// on a later line is a column too; a row without a key has a null cell there). They are known
/// before the first row: a first pass over the file reads only the keys (memory: the key
/// set, at most `TableLimits.maxColumns`), the second reads the rows. Numbers and booleans
/// keep their JSON spelling (read by `JSONReader`: a number's text, never a double in
/// between); nested values are compact JSON text with sorted keys; a missing key or null is an
/// empty (null) cell.
final class JSONLinesReader: RowSource {
    let name: String
    private var lines: LineReader
    private(set) var header: [String] = []
    private(set) var line = 0
    /// Objects in the file, from the first pass: pointers record it as the table's rows.
    private(set) var records: UInt64 = 0
    private var values: [[UInt8]] = []
    private let maxColumns: Int

    /// `open` gives the file's bytes from the start, once per pass.
    init(open: () throws -> ByteStream, name: String,
         maxColumns: Int = TableLimits.maxColumns, maxRecordBytes: Int = TableLimits.maxRecordBytes) throws {
        self.name = name
        self.maxColumns = maxColumns
        lines = LineReader(try open(), name: name, maxLineBytes: maxRecordBytes)
        var seen: Set<String> = []
        // Only the keys: a scan of each line's top level, no values built (a full parse made
        // this pass cost as much as the second). A line that is no object is parsed, to be
        // reported as the second pass would.
        while let (line, n) = try nextLine() {
            records += 1
            let keys: [String]
            if let k = topLevelKeys(line) { keys = k } else {
                guard case .object(let obj)? = try? JSONReader.parse(Array(line)) else { throw notAnObject(n) }
                keys = obj.map(\.key)
            }
            for k in keys where !seen.contains(k) {
                if seen.count == maxColumns {
                    throw DiffError.tooWide(file: name, why: "line \(n) brings the keys past \(maxColumns), the most mlv compares")
                }
                seen.insert(k)
                header.append(k)
            }
        }
        lines = LineReader(try open(), name: name, maxLineBytes: maxRecordBytes)
    }

    private func notAnObject(_ n: Int) -> DiffError {
        DiffError.malformed(file: name, line: n, why: "not a JSON object (JSON Lines needs one object per line)")
    }

    /// The next line that is not blank (only spaces, tabs, CRs), leading blanks dropped, no
    /// wider than `maxColumns` keys.
    private func nextLine() throws -> (ArraySlice<UInt8>, Int)? {
        while let (bytes, n) = try lines.next() {
            let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.isEmpty || trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            // Counted before parsing: the parsed line holds a value per key (a 16 MiB line of
            // 1,150,000 keys took 270 MB to learn it was too wide).
            if topLevelEntries(trimmed, stopAfter: maxColumns) > maxColumns {
                throw DiffError.tooWide(file: name, why: "line \(n) has more than \(maxColumns) keys, the most mlv compares")
            }
            return (trimmed, n)
        }
        return nil
    }

    /// The keys of the object `line` holds, in order (repeats included), from its top level
    /// only: a string right after its `{` or a `,` there. Nil when the line does not start
    /// with `{` or a key does not decode (the caller parses the line then).
    private func topLevelKeys(_ line: ArraySlice<UInt8>) -> [String]? {
        guard line.first == UInt8(ascii: "{") else { return nil }
        var keys: [String] = []
        var depth = 0, inString = false, escaped = false, expectKey = false
        var keyStart: Int? = nil, keyEscaped = false
        for i in line.indices {
            let c = line[i]
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true; keyEscaped = true } else if c == 0x22 {
                    inString = false
                    if let s = keyStart {
                        keyStart = nil
                        if !keyEscaped { keys.append(String(decoding: line[s..<i], as: UTF8.self)); continue }
                        // Escapes decoded as the parser does.
                        guard case .string(let k)? = try? JSONReader.parse(Array(line[(s - 1)...i])) else { return nil }
                        keys.append(k)
                    }
                }
                continue
            }
            switch c {
            case 0x22:
                inString = true
                if depth == 1 && expectKey { keyStart = i + 1; keyEscaped = false; expectKey = false }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 1 { expectKey = true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectKey = true }
            default: break
            }
        }
        return keys
    }

    private func nextObject() throws -> ([(key: String, value: JSONValue)], Int)? {
        while let (trimmed, n) = try nextLine() {
            guard case .object(let obj)? = try? JSONReader.parse(Array(trimmed)) else { throw notAnObject(n) }
            if obj.count > maxColumns {
                throw DiffError.tooWide(file: name, why: "line \(n) has \(obj.count) keys, more than the \(maxColumns) mlv compares")
            }
            return (obj, n)
        }
        return nil
    }

    /// Entries of the object `bytes` holds (separators at its top level, plus one), counted up
    /// to `stopAfter` + 1. Only a bound: the text is not validated here.
    private func topLevelEntries(_ bytes: ArraySlice<UInt8>, stopAfter: Int) -> Int {
        var depth = 0, entries = 0
        var inString = false, escaped = false, any = false
        for c in bytes {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                continue
            }
            switch c {
            case 0x22:
                inString = true
                if depth == 1 && !any { any = true; entries = 1 }
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 {
                    entries += 1
                    if entries > stopAfter { return entries }
                }
            default: break
            }
        }
        return entries
    }

    func next() throws -> Bool {
        guard let (o, n) = try nextObject() else { return false }
        // A repeated key: the last value, as JSON parsers commonly keep.
        let obj = Dictionary(o, uniquingKeysWith: { _, b in b })
        line = n
        values = header.map { k in cell(obj[k]) }
        return true
    }

    private func cell(_ v: JSONValue?) -> [UInt8] {
        switch v {
        case nil, .null?: return []
        case .string(let s)?: return Array(s.utf8)
        case .bool(let b)?: return Array((b ? "true" : "false").utf8)
        case .number(let n)?: return Array(n.text.utf8)
        case let nested?: return (try? JSONOutput.encode(nested, pretty: false)) ?? []
        }
    }

    func field(_ i: Int) -> ArraySlice<UInt8> { values[i][...] }
    func string(_ i: Int) -> String { String(decoding: values[i], as: UTF8.self) }
}

/// Splits a stream into lines (without the line break), numbered from 1.
final class LineReader {
    private let stream: ByteStream
    private let name: String
    private let maxLineBytes: Int
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var pos = 0
    private var lineNo = 0
    private var done = false

    init(_ stream: ByteStream, name: String, maxLineBytes: Int = TableLimits.maxRecordBytes) {
        self.stream = stream
        self.name = name
        self.maxLineBytes = maxLineBytes
    }

    func next() throws -> ([UInt8], Int)? {
        var out: [UInt8] = []
        var any = false
        while true {
            if pos >= block.count {
                if done { break }
                guard let b = try stream.next() else { done = true; break }
                block = b
                pos = 0
                continue
            }
            any = true
            let start = pos
            while pos < block.count && block[pos] != 0x0A { pos += 1 }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[start..<pos]))
            if out.count > maxLineBytes {
                throw DiffError.tooWide(file: name, why: "line \(lineNo + 1) is longer than \(maxLineBytes >> 20) MiB, the most mlv compares")
            }
            if pos < block.count {
                pos += 1
                lineNo += 1
                return (out, lineNo)
            }
        }
        if !any && out.isEmpty { return nil }
        lineNo += 1
        return (out, lineNo)
    }
}
