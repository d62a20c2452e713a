import Foundation

/// A JSON value as the text spelled it: objects keep their key order, numbers their text
/// (`ExactNumber`). The one reader of JSON from users' files and of mlv's own run records.
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(ExactNumber)
    case string(String)
    case array([JSONValue])
    /// Keys in the order of the text; a repeated key keeps its first place and its last value.
    case object([(key: String, value: JSONValue)])

    public subscript(key: String) -> JSONValue? {
        if case .object(let entries) = self { return entries.first { $0.key == key }?.value }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
}

/// Where and why a text is not JSON.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public var line: Int
    public var why: String
    public var description: String { "line \(line): \(why)" }
}

/// A strict RFC 8259 reader that keeps every number's text and every object's key order
/// (JSONSerialization does neither: on Linux it rounds 17-digit numbers wrongly). One
/// extension, as Python's `json` module writes them by default: bare `NaN`, `Infinity` and
/// `-Infinity` read as numbers when `nonFinite` is set. Nesting is bounded (`maxDepth`), so a
/// hostile file cannot exhaust the stack.
public struct JSONReader {
    public static let maxDepth = 512

    public static func parse(_ bytes: [UInt8], nonFinite: Bool = true) throws(JSONSyntaxError) -> JSONValue {
        var r = JSONReader(bytes: bytes, nonFinite: nonFinite)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { r.i = 3 }   // a UTF-8 byte order mark
        r.space()
        let v = try r.value(depth: 0)
        r.space()
        guard r.i == bytes.count else { throw r.fail("unexpected text after the value") }
        return v
    }

    private let b: [UInt8]
    private let nonFinite: Bool
    private var i = 0

    private init(bytes: [UInt8], nonFinite: Bool) { b = bytes; self.nonFinite = nonFinite }

    private func fail(_ why: String) -> JSONSyntaxError {
        JSONSyntaxError(line: 1 + b[..<min(i, b.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }, why: why)
    }

    private mutating func space() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }

    private mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard b.count - i >= w.count, b[i..<(i + w.count)].elementsEqual(w) else { return false }
        i += w.count
        return true
    }

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard i < b.count else { throw fail("the text ends where a value should be") }
        switch b[i] {
        case 0x7B: // {
            guard depth < JSONReader.maxDepth else { throw fail("nested deeper than \(JSONReader.maxDepth) levels") }
            i += 1
            var entries: [(key: String, value: JSONValue)] = []
            var seen: [String: Int] = [:]
            space()
            if i < b.count, b[i] == 0x7D { i += 1; return .object(entries) }
            while true {
                space()
                guard i < b.count, b[i] == 0x22 else { throw fail("an object key must be a string in double quotes") }
                let k = try string()
                space()
                guard i < b.count, b[i] == 0x3A else { throw fail("expected ':' after the key \(k.debugDescription)") }
                i += 1
                space()
                let v = try value(depth: depth + 1)
                if let at = seen[k] { entries[at].value = v } else { seen[k] = entries.count; entries.append((k, v)) }
                space()
                guard i < b.count else { throw fail("the text ends inside an object") }
                if b[i] == 0x2C { i += 1; continue }
                guard b[i] == 0x7D else { throw fail("expected ',' or '}' in an object") }
                i += 1
                return .object(entries)
            }
        case 0x5B: // [
            guard depth < JSONReader.maxDepth else { throw fail("nested deeper than \(JSONReader.maxDepth) levels") }
            i += 1
            var items: [JSONValue] = []
            space()
            if i < b.count, b[i] == 0x5D { i += 1; return .array(items) }
            while true {
                space()
                items.append(try value(depth: depth + 1))
                space()
                guard i < b.count else { throw fail("the text ends inside an array") }
                if b[i] == 0x2C { i += 1; continue }
                guard b[i] == 0x5D else { throw fail("expected ',' or ']' in an array") }
                i += 1
                return .array(items)
            }
        case 0x22: return .string(try string())
        case 0x74 where literal("true"): return .bool(true)
        case 0x66 where literal("false"): return .bool(false)
        case 0x6E where literal("null"): return .null
        case 0x4E where nonFinite && literal("NaN"): return .number(ExactNumber(.nan))
        case 0x49 where nonFinite && literal("Infinity"): return .number(ExactNumber(.infinity))
        case 0x2D where nonFinite && literal("-Infinity"): return .number(ExactNumber(-.infinity))
        case 0x2D, 0x30...0x39: return .number(try number())
        default: throw fail("unexpected character \(String(decoding: [b[i]], as: UTF8.self).debugDescription)")
        }
    }

    private mutating func number() throws(JSONSyntaxError) -> ExactNumber {
        let start = i
        func digits(_ i: inout Int) -> Int { let s = i; while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }; return i - s }
        if b[i] == 0x2D { i += 1 }
        if i < b.count, b[i] == 0x30 { i += 1 } else if digits(&i) == 0 { throw fail("a number needs digits") }
        if i < b.count, b[i] == 0x2E {
            i += 1
            guard digits(&i) > 0 else { throw fail("a number needs digits after '.'") }
        }
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
            guard digits(&i) > 0 else { throw fail("a number needs digits in its exponent") }
        }
        return ExactNumber(jsonNumber: String(decoding: b[start..<i], as: UTF8.self))
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard b.count - i >= 4 else { throw fail("a \\u escape needs four hex digits") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("a \\u escape needs four hex digits")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        i += 1   // the opening quote
        var out: [UInt8] = []
        while true {
            let start = i
            while i < b.count, b[i] != 0x22, b[i] != 0x5C, b[i] >= 0x20 { i += 1 }
            out.append(contentsOf: b[start..<i])
            guard i < b.count else { throw fail("the text ends inside a string") }
            let c = b[i]
            i += 1
            if c == 0x22 { break }
            guard c == 0x5C else { i -= 1; throw fail("a control character inside a string must be escaped") }
            guard i < b.count else { throw fail("the text ends inside a string") }
            let e = b[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard literal("\\u") else { throw fail("a \\u escape of a high surrogate needs its low half") }
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("a \\u escape of a high surrogate needs its low half") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("a \\u escape of a lone surrogate is not text") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("unknown escape \\\(String(decoding: [e], as: UTF8.self))")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("a string is not valid UTF-8") }
        return s
    }
}

extension JSONValue: Encodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue s: String) { stringValue = s }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .number(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .string(let v): var c = encoder.singleValueContainer(); try c.encode(v)
        case .array(let a): var c = encoder.unkeyedContainer(); for x in a { try c.encode(x) }
        case .object(let o): var c = encoder.container(keyedBy: Key.self); for (k, v) in o { try c.encode(v, forKey: Key(k)) }
        }
    }
}

/// An Encodable whose keyed container keeps the order it encodes its keys in (mlv's other
/// objects come out with sorted keys): metrics copied from a file keep the file's order.
public protocol JSONKeepsKeyOrder {}

/// mlv's JSON output, every report and record: keys sorted (unless `JSONKeepsKeyOrder`),
/// `ExactNumber`s as their text, doubles as their shortest round-trip text, NaN and the
/// infinities as the strings "NaN", "Infinity", "-Infinity" (JSONEncoder refuses them, and
/// cannot write a number's text). Pretty output is laid out as JSONEncoder's `.prettyPrinted`.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> [UInt8] {
        let root = try JNode.box(value, path: [])
        var out: [UInt8] = []
        root.write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where u.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// One value being encoded: a scalar's JSON text, an array or an object.
private final class JNode {
    var scalar: String?
    var items: [JNode]?
    var keys: [String]?
    var values: [JNode]?
    var index: [String: Int] = [:]
    var keepOrder = false

    /// `value` encoded into a new node.
    static func box<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> JNode {
        let n = JNode()
        switch value {
        case let v as ExactNumber: n.scalar = v.jsonText
        case let v as Double: n.scalar = ExactNumber(v).jsonText
        case let v as Float: n.scalar = ExactNumber(Double("\(v)") ?? Double(v)).jsonText   // Float's own shortest digits
        case let v as String: n.scalar = JSONOutput.quoted(v)
        default:
            if value is any JSONKeepsKeyOrder { n.keepOrder = true }
            try value.encode(to: TreeEncoder(node: n, codingPath: path))
        }
        return n
    }

    func set(_ key: String, _ v: JNode) {
        if keys == nil { keys = []; values = [] }
        if let at = index[key] { values![at] = v; return }
        index[key] = keys!.count
        keys!.append(key)
        values!.append(v)
    }

    func write(into out: inout [UInt8], pretty: Bool, indent: Int) {
        let pad = pretty ? [UInt8](repeating: 0x20, count: indent) : []
        let inner = pretty ? [UInt8](repeating: 0x20, count: indent + 2) : []
        if let s = scalar { out += Array(s.utf8); return }
        if let items {
            out.append(0x5B)
            if pretty { out.append(0x0A) }
            if items.isEmpty && pretty { out.append(0x0A); out += pad }
            for (i, x) in items.enumerated() {
                out += inner
                x.write(into: &out, pretty: pretty, indent: indent + 2)
                if i < items.count - 1 { out.append(0x2C) }
                if pretty { out.append(0x0A) }
                if pretty && i == items.count - 1 { out += pad }
            }
            out.append(0x5D)
            return
        }
        let keys = self.keys ?? [], values = self.values ?? []
        let order = keepOrder ? Array(keys.indices) : keys.indices.sorted { keys[$0] < keys[$1] }
        out.append(0x7B)
        if pretty { out.append(0x0A) }
        if order.isEmpty && pretty { out.append(0x0A); out += pad }
        for (n, i) in order.enumerated() {
            out += inner
            out += Array(JSONOutput.quoted(keys[i]).utf8)
            out += pretty ? Array(" : ".utf8) : [0x3A]
            values[i].write(into: &out, pretty: pretty, indent: indent + 2)
            if n < order.count - 1 { out.append(0x2C) }
            if pretty { out.append(0x0A) }
            if pretty && n == order.count - 1 { out += pad }
        }
        out.append(0x7D)
    }
}

private struct TreeEncoder: Encoder {
    let node: JNode
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.keys == nil { node.keys = []; node.values = [] }
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.items == nil { node.items = [] }
        return Unkeyed(node: node, codingPath: codingPath)
    }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JNode
    var codingPath: [any CodingKey]
    mutating func encodeNil(forKey key: Key) throws { let n = JNode(); n.scalar = "null"; node.set(key.stringValue, n) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.set(key.stringValue, try JNode.box(value, path: codingPath + [key]))
    }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try encode(Scalar(value ? "true" : "false"), forKey: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encode(Scalar(String(value)), forKey: key) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let n = JNode()
        node.set(key.stringValue, n)
        return TreeEncoder(node: n, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let n = JNode()
        node.set(key.stringValue, n)
        return TreeEncoder(node: n, codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let n = JNode()
        node.set(key.stringValue, n)
        return TreeEncoder(node: n, codingPath: codingPath + [key])
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let node: JNode
    var codingPath: [any CodingKey]
    var count: Int { node.items?.count ?? 0 }
    mutating func encodeNil() throws { try encode(Scalar("null")) }
    mutating func encode<T: Encodable>(_ value: T) throws { node.items!.append(try JNode.box(value, path: codingPath)) }
    mutating func encode(_ value: Bool) throws { try encode(Scalar(value ? "true" : "false")) }
    mutating func encode(_ value: Int) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: Int8) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: Int16) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: Int32) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: Int64) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: UInt) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: UInt8) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: UInt16) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: UInt32) throws { try encode(Scalar(String(value))) }
    mutating func encode(_ value: UInt64) throws { try encode(Scalar(String(value))) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let n = JNode()
        node.items!.append(n)
        return TreeEncoder(node: n, codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let n = JNode()
        node.items!.append(n)
        return TreeEncoder(node: n, codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        let n = JNode()
        node.items!.append(n)
        return TreeEncoder(node: n, codingPath: codingPath)
    }
}

private struct Single: SingleValueEncodingContainer {
    let node: JNode
    var codingPath: [any CodingKey]
    /// A value encoded through a single-value container replaces the node's content.
    private func take(_ n: JNode) {
        node.scalar = n.scalar; node.items = n.items; node.keys = n.keys; node.values = n.values
        node.index = n.index; node.keepOrder = n.keepOrder
    }
    mutating func encodeNil() throws { node.scalar = "null" }
    mutating func encode<T: Encodable>(_ value: T) throws { take(try JNode.box(value, path: codingPath)) }
    mutating func encode(_ value: Bool) throws { node.scalar = value ? "true" : "false" }
    mutating func encode(_ value: Int) throws { node.scalar = String(value) }
    mutating func encode(_ value: Int8) throws { node.scalar = String(value) }
    mutating func encode(_ value: Int16) throws { node.scalar = String(value) }
    mutating func encode(_ value: Int32) throws { node.scalar = String(value) }
    mutating func encode(_ value: Int64) throws { node.scalar = String(value) }
    mutating func encode(_ value: UInt) throws { node.scalar = String(value) }
    mutating func encode(_ value: UInt8) throws { node.scalar = String(value) }
    mutating func encode(_ value: UInt16) throws { node.scalar = String(value) }
    mutating func encode(_ value: UInt32) throws { node.scalar = String(value) }
    mutating func encode(_ value: UInt64) throws { node.scalar = String(value) }
}

/// Text already in JSON form (a number, true, null), encoded as is.
private struct Scalar: Encodable {
    let text: String
    init(_ t: String) { text = t }
    func encode(to encoder: any Encoder) throws {
        guard let e = encoder as? TreeEncoder else { throw EncodingError.invalidValue(text, .init(codingPath: encoder.codingPath, debugDescription: "internal to JSONOutput")) }
        e.node.scalar = text
    }
}

extension JSONSyntaxError: CategorizedError {
    public var category: ErrorCategory { .input }
}
