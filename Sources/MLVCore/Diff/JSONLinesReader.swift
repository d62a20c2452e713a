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

/// JSON Lines: one JSON object per line. The columns are the first object's keys, in order;
/// a later key no earlier row had is an error naming the line (a schema that changes mid-file
/// is not one table). Numbers and booleans keep their JSON spelling; nested values are
/// compact JSON text; a missing key or null is an empty (null) cell.
final class JSONLinesReader: RowSource {
    let name: String
    private let lines: LineReader
    private(set) var header: [String] = []
    private(set) var line = 0
    private var headerSet: Set<String> = []
    private var values: [[UInt8]] = []
    private var pending: [String: Any]? = nil
    private let maxColumns: Int

    init(stream: ByteStream, name: String,
         maxColumns: Int = TableLimits.maxColumns, maxRecordBytes: Int = TableLimits.maxRecordBytes) throws {
        self.name = name
        self.maxColumns = maxColumns
        lines = LineReader(stream, name: name, maxLineBytes: maxRecordBytes)
        if let (obj, n, bytes) = try nextObject() {
            header = keyOrder(bytes, keys: obj.count) ?? obj.keys.sorted()
            headerSet = Set(header)
            pending = obj
            line = n
        }
    }

    private func nextObject() throws -> ([String: Any], Int, ArraySlice<UInt8>)? {
        while let (bytes, n) = try lines.next() {
            let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.isEmpty || trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            // Counted before parsing: JSONSerialization holds an object per value (a 16 MiB
            // line of 1,150,000 keys took 270 MB to learn it was too wide).
            if topLevelEntries(trimmed, stopAfter: maxColumns) > maxColumns {
                throw DiffError.tooWide(file: name, why: "line \(n) has more than \(maxColumns) keys, the most mlv compares")
            }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed)) as? [String: Any] else {
                throw DiffError.malformed(file: name, line: n, why: "not a JSON object (JSON Lines needs one object per line)")
            }
            if obj.count > maxColumns {
                throw DiffError.tooWide(file: name, why: "line \(n) has \(obj.count) keys, more than the \(maxColumns) mlv compares")
            }
            return (obj, n, trimmed)
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

    /// The keys of an object in the order they appear in the text (JSONSerialization loses
    /// it), in one pass over the bytes; nil if the text does not read as `keys` distinct keys.
    private func keyOrder(_ bytes: ArraySlice<UInt8>, keys keyCount: Int) -> [String]? {
        var keys: [String] = []
        keys.reserveCapacity(keyCount)
        var i = bytes.startIndex
        let end = bytes.endIndex
        func skipSpace() { while i < end, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 } }
        /// A string literal at `i` (opening quote), with its escapes undone.
        func string() -> String? {
            guard i < end, bytes[i] == 0x22 else { return nil }
            i += 1
            var out: [UInt8] = []
            var pendingHigh: UInt32? = nil      // a \uD800-\uDBFF waiting for its low half
            while i < end {
                let c = bytes[i]
                i += 1
                if c == 0x22 { return pendingHigh == nil ? String(decoding: out, as: UTF8.self) : nil }
                guard c == 0x5C else { out.append(c); continue }
                guard i < end else { return nil }
                let e = bytes[i]
                i += 1
                var scalar: UInt32
                switch e {
                case UInt8(ascii: "n"): scalar = 0x0A
                case UInt8(ascii: "t"): scalar = 0x09
                case UInt8(ascii: "r"): scalar = 0x0D
                case UInt8(ascii: "b"): scalar = 0x08
                case UInt8(ascii: "f"): scalar = 0x0C
                case UInt8(ascii: "u"):
                    guard end - i >= 4, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { return nil }
                    i += 4
                    scalar = v
                default: scalar = UInt32(e)     // \" \\ \/
                }
                if let high = pendingHigh {
                    guard (0xDC00...0xDFFF).contains(scalar) else { return nil }
                    scalar = 0x10000 + ((high - 0xD800) << 10) + (scalar - 0xDC00)
                    pendingHigh = nil
                } else if (0xD800...0xDBFF).contains(scalar) {
                    pendingHigh = scalar
                    continue
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            }
            return nil
        }
        /// Skips one value (the text is valid JSON: JSONSerialization read it).
        func skipValue() {
            var depth = 0
            while i < end {
                let c = bytes[i]
                if c == 0x22 { _ = string(); if depth == 0 { return }; continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    if depth == 0 { return }
                    depth -= 1
                    if depth == 0 { i += 1; return }
                } else if c == UInt8(ascii: ","), depth == 0 { return }
                i += 1
            }
        }
        skipSpace()
        guard i < end, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            skipSpace()
            if i < end, bytes[i] == UInt8(ascii: "}") { break }
            guard let k = string() else { return nil }
            keys.append(k)
            skipSpace()
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            skipSpace()
            skipValue()
            skipSpace()
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { return nil }
            break
        }
        // Repeated keys: JSONSerialization kept one of them; the order is not certain.
        guard keys.count == keyCount, Set(keys).count == keyCount else { return nil }
        return keys
    }

    func next() throws -> Bool {
        let obj: [String: Any]
        if let p = pending { obj = p; pending = nil } else {
            guard let (o, n, _) = try nextObject() else { return false }
            obj = o
            line = n
        }
        for k in obj.keys where !headerSet.contains(k) {
            throw DiffError.malformed(file: name, line: line, why: "key \(k.debugDescription) is not in the first row's keys (\(header.prefix(12).joined(separator: ", "))\(header.count > 12 ? ", ..." : ""))")
        }
        values = header.map { k in cell(obj[k]) }
        return true
    }

    private func cell(_ v: Any?) -> [UInt8] {
        switch v {
        case nil, is NSNull: return []
        case let s as String: return Array(s.utf8)
        case let n as NSNumber:
            if String(describing: type(of: n)).contains("Boolean") { return Array((n.boolValue ? "true" : "false").utf8) }
            return Array(formatNumber(n.doubleValue).utf8)
        default:
            let data = (try? JSONSerialization.data(withJSONObject: v!, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
            return [UInt8](data)
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
