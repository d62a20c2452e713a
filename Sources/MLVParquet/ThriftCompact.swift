// The Thrift compact protocol, as Parquet writes its footer and page headers
// (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md):
// reading only, every length and count checked against the bytes left, nesting bounded, so a
// hostile file gets an error, never a trap, a loop or an unbounded allocation.

import MLVSystem

/// Why a Thrift structure could not be read.
public struct ThriftError: Error, Equatable, CustomStringConvertible {
    public let why: String
    public let offset: Int
    public var description: String { "\(why) at byte \(offset)" }
}

/// Compact-protocol wire types (the low nibble of a field header).
enum ThriftType: UInt8 {
    case boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
    case list = 9, set = 10, map = 11, structure = 12
}

/// A cursor over compact-protocol bytes.
struct ThriftReader {
    let bytes: [UInt8]
    private(set) var at: Int
    let end: Int
    /// Structs and containers inside one another: Parquet's own nest a few levels deep.
    static let maxDepth = 64

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.at = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    func fail(_ why: String) -> ThriftError { ThriftError(why: why, offset: at) }

    mutating func byte() throws -> UInt8 {
        guard at < end else { throw fail("the data ends early") }
        defer { at += 1 }
        return bytes[at]
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = try byte()
            guard shift < 63 || b <= 1 else { throw fail("a varint longer than 64 bits") }
            v |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return v }
        }
        throw fail("a varint longer than 64 bits")
    }

    mutating func zigzag() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func i32() throws -> Int32 {
        let v = try zigzag()
        guard let r = Int32(exactly: v) else { throw fail("an i32 out of range") }
        return r
    }

    mutating func binary() throws -> ArraySlice<UInt8> {
        let n = try varint()
        guard n <= UInt64(end - at) else { throw fail("a string of \(n) bytes where \(end - at) are left") }
        defer { at += Int(n) }
        return bytes[at..<(at + Int(n))]
    }

    /// A field header: nil at the struct's stop byte. `last` is the previous field's id.
    mutating func fieldHeader(last: inout Int16) throws -> (id: Int16, type: ThriftType)? {
        let h = try byte()
        if h == 0 { return nil }
        guard let t = ThriftType(rawValue: h & 0x0F) else { throw fail("field type \(h & 0x0F) is not a Thrift type") }
        let delta = Int16(h >> 4)
        if delta == 0 {
            let v = try zigzag()
            guard let id = Int16(exactly: v) else { throw fail("a field id out of range") }
            last = id
        } else {
            last = last &+ delta
        }
        return (last, t)
    }

    /// A list or set header: element type and count, the count checked against the bytes left
    /// (every element takes at least one byte, but booleans, which take none in a list, take one).
    mutating func listHeader() throws -> (type: ThriftType, count: Int) {
        let h = try byte()
        guard let t = ThriftType(rawValue: h & 0x0F) else { throw fail("element type \(h & 0x0F) is not a Thrift type") }
        var n = UInt64(h >> 4)
        if n == 15 { n = try varint() }
        guard n <= UInt64(end - at) else { throw fail("a list of \(n) elements where \(end - at) bytes are left") }
        return (t, Int(n))
    }

    /// Skips one value of type `t` (unknown fields, in the forward-compatible Thrift way).
    mutating func skip(_ t: ThriftType, depth: Int = 0) throws {
        guard depth < ThriftReader.maxDepth else { throw fail("structures nested over \(ThriftReader.maxDepth) deep") }
        switch t {
        case .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - at >= 8 else { throw fail("the data ends early") }
            at += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (et, n) = try listHeader()
            for _ in 0..<n { try skipElement(et, depth: depth + 1) }
        case .map:
            let n = try varint()
            guard n <= UInt64(end - at) else { throw fail("a map of \(n) entries where \(end - at) bytes are left") }
            if n == 0 { return }
            let kv = try byte()
            guard let kt = ThriftType(rawValue: kv >> 4), let vt = ThriftType(rawValue: kv & 0x0F) else { throw fail("a map's types are not Thrift types") }
            for _ in 0..<n {
                try skipElement(kt, depth: depth + 1)
                try skipElement(vt, depth: depth + 1)
            }
        case .structure:
            var last: Int16 = 0
            while let (_, ft) = try fieldHeader(last: &last) { try skip(ft, depth: depth + 1) }
        }
    }

    /// A list element: booleans take one byte there (in a struct, none).
    mutating func skipElement(_ t: ThriftType, depth: Int) throws {
        if t == .boolTrue || t == .boolFalse { _ = try byte() } else { try skip(t, depth: depth) }
    }
}

extension ThriftError: CategorizedError {
    public var category: ErrorCategory { .input }   // a user's file
}
