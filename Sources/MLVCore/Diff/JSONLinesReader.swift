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
    private var values: [[UInt8]] = []
    private var pending: [String: Any]? = nil

    init(stream: ByteStream, name: String) throws {
        self.name = name
        lines = LineReader(stream)
        if let (obj, n) = try nextObject() {
            header = obj.keys.sorted()
            if let order = firstKeyOrder { header = order }
            pending = obj
            line = n
        }
    }

    private var firstKeyOrder: [String]? = nil

    private func nextObject() throws -> ([String: Any], Int)? {
        while let (bytes, n) = try lines.next() {
            let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if trimmed.isEmpty || trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            guard let obj = try? JSONSerialization.jsonObject(with: Data(trimmed)) as? [String: Any] else {
                throw DiffError.malformed(file: name, line: n, why: "not a JSON object (JSON Lines needs one object per line)")
            }
            if firstKeyOrder == nil { firstKeyOrder = keyOrder(trimmed) ?? obj.keys.sorted() }
            return (obj, n)
        }
        return nil
    }

    /// The keys of a flat object in the order they appear in the text (JSONSerialization
    /// loses it); nil if the line is not simple enough to tell.
    private func keyOrder(_ bytes: ArraySlice<UInt8>) -> [String]? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let positions = obj.keys.compactMap { k -> (String, String.Index)? in
            guard let data = try? JSONSerialization.data(withJSONObject: [k], options: [.fragmentsAllowed]),
                  let quoted = String(data: data, encoding: .utf8)?.dropFirst().dropLast(),
                  let r = text.range(of: String(quoted) + ":") ?? text.range(of: String(quoted) + " :") else { return nil }
            return (k, r.lowerBound)
        }
        guard positions.count == obj.count else { return nil }
        return positions.sorted { $0.1 < $1.1 }.map(\.0)
    }

    func next() throws -> Bool {
        let obj: [String: Any]
        if let p = pending { obj = p; pending = nil } else {
            guard let (o, n) = try nextObject() else { return false }
            obj = o
            line = n
        }
        for k in obj.keys where !header.contains(k) {
            throw DiffError.malformed(file: name, line: line, why: "key \(k.debugDescription) is not in the first row's keys (\(header.joined(separator: ", ")))")
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
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var pos = 0
    private var lineNo = 0
    private var done = false

    init(_ stream: ByteStream) { self.stream = stream }

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
