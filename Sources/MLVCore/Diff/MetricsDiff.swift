// Metrics and params: their values (`MetricValue`, `OrderedMetrics`), flattening a JSON, YAML or
// CSV file into keys, and comparing two versions (`MetricChange`).
import Foundation
import Yams

/// A metric or param value: a number (exactly as its file wrote it), a flag or text.
public enum MetricValue: Codable, Sendable, Equatable, CustomStringConvertible {
    case number(ExactNumber)
    case bool(Bool)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(ExactNumber(d)) }
        else { self = .text(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .bool(let b): try c.encode(b)
        case .text(let s): try c.encode(s)
        }
    }

    /// A JSON value from a user's file or a run record; nil for null, objects and arrays.
    /// In run records (`mlvJSON`), the strings mlv writes for NaN and the infinities are those
    /// numbers again.
    init?(_ v: JSONValue, mlvJSON: Bool = false) {
        switch v {
        case .number(let n): self = .number(n)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = mlvJSON ? ExactNumber.nonFinite(s).map { .number($0) } ?? .text(s) : .text(s)
        case .null, .array, .object: return nil
        }
    }

    /// The number's double, for arithmetic.
    public var number: Double? { if case .number(let n) = self { return n.value } else { return nil } }
    public var exactNumber: ExactNumber? { if case .number(let n) = self { return n } else { return nil } }

    /// As the file wrote it (numbers: `ExactNumber.text`).
    public var description: String {
        switch self {
        case .number(let n): return n.text
        case .bool(let b): return String(b)
        case .text(let s): return s
        }
    }
}

/// Flattened metrics or params in the order of their file: a run record copies them in that
/// order. Setting a key again keeps its first place.
public struct OrderedMetrics: Sendable, Equatable, Encodable, JSONKeepsKeyOrder {
    public private(set) var keys: [String] = []
    public private(set) var dictionary: [String: MetricValue] = [:]

    public init() {}

    public subscript(key: String) -> MetricValue? {
        get { dictionary[key] }
        set {
            if newValue != nil, dictionary[key] == nil { keys.append(key) }
            if newValue == nil, dictionary[key] != nil { keys.removeAll { $0 == key } }
            dictionary[key] = newValue
        }
    }

    public var entries: [(key: String, value: MetricValue)] { keys.map { ($0, dictionary[$0]!) } }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: JSONValue.Key.self)
        for (k, v) in entries { try c.encode(v, forKey: JSONValue.Key(k)) }
    }
}

/// A computed number (a delta, a mean) for people to read: integers as integers, others with up
/// to 6 significant decimals. Never for a value from a user's file: that is `ExactNumber.text`.
public func formatNumber(_ d: Double) -> String {
    if !d.isFinite { return ExactNumber.shortest(d) }   // NaN, Infinity, -Infinity as everywhere
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
    try flattenMetricsInOrder(bytes, path: path, formatPath: formatPath).dictionary
}

/// `flattenMetrics` in the file's order. Numbers are `ExactNumber`s: JSON's through
/// `JSONReader` (its text), YAML's from the scalar's text, CSV's from the cell's text.
func flattenMetricsInOrder(_ bytes: [UInt8], path: String, formatPath: String? = nil) throws -> OrderedMetrics {
    try flattenFile(bytes, path: path, formatPath: formatPath).values
}

/// A metrics or params file flattened: its values (`flattenMetricsInOrder`), and the key
/// paths that hold no value of their own, which a stage's params need to tell a section (the
/// keys below it) or a null from a key the file lacks.
struct FlatFile {
    var values = OrderedMetrics()
    /// Mappings and lists with something below them, at any depth (`train`, `train.layers`).
    var sections: Set<String> = []
    /// Nulls and empty mappings and lists, spelled as in JSON: `null`, `{}`, `[]`.
    var empties: [String: String] = [:]

    /// Every key path the file has, for suggestions.
    var keyPaths: [String] { values.keys + empties.keys.sorted() + sections.sorted() }
}

/// `flattenMetricsInOrder`, keeping the file's sections and nulls as well (`FlatFile`).
func flattenFile(_ bytes: [UInt8], path: String, formatPath: String? = nil) throws -> FlatFile {
    let lower = (formatPath ?? path).lowercased()
    var out = OrderedMetrics()
    var sections: Set<String> = [], empties: [String: String] = [:]
    /// A mapping or list at `prefix` (the whole file's is not a key).
    func container(_ prefix: String, empty: Bool, spelled: String) {
        guard !prefix.isEmpty else { return }
        if empty { empties[prefix] = spelled } else { sections.insert(prefix) }
    }
    if lower.hasSuffix(".json") {
        // An explicit stack, not recursion: the reader bounds the depth, this keeps the
        // key order (children pushed in reverse).
        var stack: [(JSONValue, String)]
        do throws(JSONSyntaxError) {
            stack = [(try JSONReader.parse(bytes), "")]
        } catch {
            throw DiffError.malformed(file: path, line: error.line, why: "not valid JSON (\(error.why))")
        }
        while let (v, prefix) = stack.popLast() {
            switch v {
            case .object(let entries):
                container(prefix, empty: entries.isEmpty, spelled: "{}")
                for (k, x) in entries.reversed() { stack.append((x, prefix.isEmpty ? k : prefix + "." + k)) }
            case .array(let items):
                container(prefix, empty: items.isEmpty, spelled: "[]")
                for (i, x) in items.enumerated().reversed() { stack.append((x, prefix + ".\(i)")) }
            default:
                if let m = MetricValue(v) { out[prefix] = m } else if !prefix.isEmpty { empties[prefix] = "null" }
            }
        }
    } else if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") {
        let sep = lower.hasSuffix(".tsv") ? UInt8(ascii: "\t") : UInt8(ascii: ",")
        let r = try TableReader(stream: MemoryStream(bytes), name: path, separator: sep)
        var rows: [[String]] = []
        while try r.next() { rows.append((0..<r.fieldCount).map { r.string($0) }) }
        func value(_ s: String) -> MetricValue {
            if let n = ExactNumber(parsing: s) { return .number(n) }
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
                case Tag.Name.null: if !prefix.isEmpty { empties[prefix] = "null" }
                case Tag.Name.bool: out[prefix] = n.bool.map { .bool($0) } ?? .text(sc.string)
                case Tag.Name.int, Tag.Name.float:
                    // The scalar's own text when it is a JSON number (no double in between:
                    // 9007199254740993 stays itself); YAML-only spellings (0x1F, 1_000, +.5,
                    // .inf) as Yams reads them. Base-60 integers (1:30:00) through Double:
                    // Yams' Int conversion traps when one overflows (found by fuzzing:
                    // `3400000001858504700:3`).
                    let json = ExactNumber.isJSONNumber(sc.string)
                    let int = json || sc.string.contains(":") ? nil : n.int
                    out[prefix] = ExactNumber(parsing: sc.string, int: int, double: json ? nil : n.float).map { .number($0) } ?? .text(sc.string)
                default: out[prefix] = .text(sc.string)
                }
            case .mapping(let m):
                container(prefix, empty: m.isEmpty, spelled: "{}")
                for (k, v) in m {
                    guard case .scalar(let key) = k else {
                        throw DiffError.malformed(file: path, line: k.mark?.line ?? 0, why: "a key is a list or mapping; metric names must be plain values")
                    }
                    try walkNode(v, prefix.isEmpty ? key.string : prefix + "." + key.string)
                }
            case .sequence(let seq):
                container(prefix, empty: seq.isEmpty, spelled: "[]")
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
    return FlatFile(values: out, sections: sections, empties: empties)
}

/// Every key of either side, in order, with deltas for numbers.
/// An unchanged number's delta is 0, whatever it is: Infinity − Infinity and NaN − NaN are
/// NaN in arithmetic, but nothing changed. A change whose difference is no number (to or from
/// NaN; the relative change from an infinity) has none (null, and blank in text), never NaN.
func compareMetrics(file: String, old: [String: MetricValue], new: [String: MetricValue]) -> [MetricChange] {
    Set(old.keys).union(new.keys).sorted().map { k in
        let a = old[k], b = new[k]
        var delta: Double? = nil, rel: Double? = nil
        if let x = a?.exactNumber, let y = b?.exactNumber {
            if x == y {
                delta = 0
                if x.value != 0 { rel = 0 }
            } else {
                let d = ExactNumber.difference(y, x)
                if !d.isNaN { delta = d }
                if x.value != 0, case let r = d / abs(x.value), !r.isNaN { rel = r }
            }
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
