import Foundation
import Yams

/// A metric or param value: a number, a flag or text.
public enum MetricValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else { self = .text(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let d): try c.encode(d)
        case .bool(let b): try c.encode(b)
        case .text(let s): try c.encode(s)
        }
    }

    public var number: Double? { if case .number(let d) = self { return d } else { return nil } }

    public var description: String {
        switch self {
        case .number(let d): return formatNumber(d)
        case .bool(let b): return String(b)
        case .text(let s): return s
        }
    }
}

/// A number without float noise: integers as integers, others with up to 6 significant decimals.
public func formatNumber(_ d: Double) -> String {
    if d.isFinite && d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
    var s = String(format: "%.6g", d)
    if s.contains("e") { return s }
    if s.contains(".") { while s.hasSuffix("0") { s.removeLast() } ; if s.hasSuffix(".") { s.removeLast() } }
    return s
}

/// One metric or param compared: `key` is the dotted path (roc_auc.test).
public struct MetricChange: Codable, Sendable {
    public var file: String
    public var key: String
    public var old: MetricValue?
    public var new: MetricValue?
    /// new − old, for numbers on both sides.
    public var delta: Double?
    /// (new − old) / |old|, for numbers with old ≠ 0.
    public var relative: Double?
}

/// Flattens a metrics or params file (JSON, YAML, or CSV) into dotted keys. CSV: a header
/// and one row, or two columns of name and value.
/// `path` names the file in messages (it may carry an @revision); the format comes from the
/// extension of `formatPath` (default: `path`).
func flattenMetrics(_ bytes: [UInt8], path: String, formatPath: String? = nil) throws -> [String: MetricValue] {
    let lower = (formatPath ?? path).lowercased()
    var out: [String: MetricValue] = [:]
    func walk(_ v: Any?, _ prefix: String) {
        // Native Swift scalars (from Yams) by their exact type first: on Linux they would also
        // match `as NSNumber`, and an NSNumber matches `as Bool` whatever it holds.
        if let v {
            let t = type(of: v)
            if t == Bool.self { out[prefix] = .bool(v as! Bool); return }
            if t == Int.self { out[prefix] = .number(Double(v as! Int)); return }
            if t == Double.self { out[prefix] = .number(v as! Double); return }
            if t == String.self { out[prefix] = .text(v as! String); return }
        }
        switch v {
        case let d as [String: Any]: for (k, x) in d { walk(x, prefix.isEmpty ? k : prefix + "." + k) }
        case let d as [AnyHashable: Any]: for (k, x) in d { walk(x, prefix.isEmpty ? "\(k)" : prefix + ".\(k)") }
        case let a as [Any]: for (i, x) in a.enumerated() { walk(x, prefix + ".\(i)") }
        case let n as NSNumber:
            // JSONSerialization gives NSNumber for true/false too, and NSNumber casts to Bool
            // and Int alike: only its class tells a flag from a number.
            out[prefix] = String(describing: type(of: n)).contains("Boolean") ? .bool(n.boolValue) : .number(n.doubleValue)
        case let b as Bool: out[prefix] = .bool(b)
        case let i as Int: out[prefix] = .number(Double(i))
        case let d as Double: out[prefix] = .number(d)
        case let s as String: out[prefix] = .text(s)
        case nil, is NSNull: break
        default: out[prefix] = .text("\(v!)")
        }
    }
    if lower.hasSuffix(".json") {
        do {
            walk(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]), "")
        } catch {
            let detail = jsonErrorDetail(error)
            throw DiffError.malformed(file: path, line: jsonErrorLine(detail, bytes), why: "not valid JSON (\(detail))")
        }
    } else if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
        let sep = lower.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        let r = try TableReader(stream: MemoryStream(bytes), name: path, separator: sep)
        var rows: [[String]] = []
        while try r.next() { rows.append((0..<r.fieldCount).map { r.string($0) }) }
        func value(_ s: String) -> MetricValue {
            if let d = Double(s) { return .number(d) }
            if s == "true" || s == "false" { return .bool(s == "true") }
            return .text(s)
        }
        if rows.count == 1 {
            for (k, v) in zip(r.header, rows[0]) { out[k] = value(v) }
        } else if r.header.count == 2 {
            for row in rows { out[row[0]] = value(row[1]) }
        } else {
            throw DiffError.malformed(file: path, line: 0, why: "a metrics CSV needs one row under its header, or two columns (name, value)")
        }
    } else {
        // YAML is walked as the parser's node tree, not through Yams.load: that builds
        // [AnyHashable: Any] and traps on a key that is itself a mapping or list (found by
        // fuzzing: `{}: 1`).
        func walkNode(_ n: Node, _ prefix: String) throws {
            switch n {
            case .scalar(let sc):
                switch Tag.Name(rawValue: n.tag.rawValue) {
                case Tag.Name.null: break
                case Tag.Name.bool: out[prefix] = n.bool.map { .bool($0) } ?? .text(sc.string)
                case Tag.Name.int, Tag.Name.float:
                    // Base-60 integers (1:30:00) through Double: Yams' Int conversion traps when
                    // one overflows (found by fuzzing: `3400000001858504700:3`).
                    let int = sc.string.contains(":") ? nil : n.int.map { Double($0) }
                    out[prefix] = (int ?? n.float).map { .number($0) } ?? .text(sc.string)
                default: out[prefix] = .text(sc.string)
                }
            case .mapping(let m):
                for (k, v) in m {
                    guard case .scalar(let key) = k else {
                        throw DiffError.malformed(file: path, line: k.mark?.line ?? 0, why: "a key is a list or mapping; metric names must be plain values")
                    }
                    try walkNode(v, prefix.isEmpty ? key.string : prefix + "." + key.string)
                }
            case .sequence(let seq):
                for (i, x) in seq.enumerated() { try walkNode(x, prefix + ".\(i)") }
            case .alias:
                break
            }
        }
        do {
            let text = String(decoding: bytes, as: UTF8.self)
            try YAMLBudget.check(text) { DiffError.malformed(file: path, line: 0, why: $0) }
            if let root = try Yams.compose(yaml: text) { try walkNode(root, "") }
        } catch let e as YamlError {
            let (mark, why) = YAMLSchema.describe(e)
            throw DiffError.malformed(file: path, line: mark?.line ?? 0, why: why)
        }
    }
    return out
}

func jsonErrorDetail(_ e: any Error) -> String {
    let s = (e as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
    return s ?? "\(e)"
}

/// The line of a JSON error, from Foundation's "around line L, column C" or "around
/// character N" (a byte offset into `bytes`); 0 when it names neither.
func jsonErrorLine(_ detail: String, _ bytes: [UInt8]) -> Int {
    func number(after word: String) -> Int? {
        guard let r = detail.range(of: word) else { return nil }
        return Int(detail[r.upperBound...].prefix { $0.isNumber })
    }
    if let l = number(after: "line ") { return l }
    if let n = number(after: "character ") {
        return 1 + bytes.prefix(max(0, n)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
    return 0
}

/// Every key of either side, in order, with deltas for numbers.
func compareMetrics(file: String, old: [String: MetricValue], new: [String: MetricValue]) -> [MetricChange] {
    Set(old.keys).union(new.keys).sorted().map { k in
        let a = old[k], b = new[k]
        var delta: Double? = nil, rel: Double? = nil
        if let x = a?.number, let y = b?.number {
            delta = y - x
            if x != 0 { rel = (y - x) / abs(x) }
        }
        return MetricChange(file: file, key: k, old: a, new: b, delta: delta, relative: rel)
    }
}

/// Bytes already in memory as a stream.
final class MemoryStream: ByteStream {
    private let bytes: [UInt8]
    private var done = false
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func next() throws -> UnsafeRawBufferPointer? {
        if done || bytes.isEmpty { return nil }
        done = true
        return bytes.withUnsafeBytes { $0 }   // `bytes` is immutable and outlives the reader
    }
}
