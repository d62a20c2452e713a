// MLVStore — content-addressed storage that knows nothing about ML.
//
// Concepts (see man/mlv-store.5 for the byte formats):
//   chunk   a piece of a file cut by the content-defined chunker; id = SHA-256 of its bytes
//   object  a chunk, a file manifest (the list of a file's chunks) or a tree (a directory);
//           every object's id is the SHA-256 of its uncompressed canonical bytes
//   pack    an append-only file holding many objects, each zstd-compressed or raw
//   index   a file mapping object ids to (pack, offset, length); one per write session
//   lock    an flock(2) on .mlv/lock: the kernel drops it when the holder dies
import MLVSystem

/// A SHA-256 digest naming an object. Stored as four words so hashing and comparing are cheap.
@frozen public struct ObjectID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var w0, w1, w2, w3: UInt64

    public static let byteCount = 32
    public static let zero = ObjectID(w0: 0, w1: 0, w2: 0, w3: 0)

    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Reads 32 bytes (big-endian words, so that byte order and `<` agree).
    @inlinable public init(bytes p: UnsafeRawPointer) {
        w0 = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { ObjectID(bytes: $0.baseAddress!) }
    }

    /// Parses 64 lowercase or uppercase hex digits; nil for anything else.
    public init?(hex: some StringProtocol) {
        let u = Array(hex.utf8)
        guard u.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let hi = hexValue(u[2 * i]), let lo = hexValue(u[2 * i + 1]) else { return nil }
            out[i] = hi << 4 | lo
        }
        self.init(bytes: out)!
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { write(to: $0.baseAddress!) }
        return out
    }

    public func write(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: w0.bigEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: w1.bigEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: w2.bigEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: w3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 12 hex digits, for humans.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public static func < (a: ObjectID, b: ObjectID) -> Bool {
        (a.w0, a.w1, a.w2, a.w3) < (b.w0, b.w1, b.w2, b.w3)
    }

    /// SHA-256 of `data` (OpenSSL's `SHA256`, which uses the CPU's SHA extensions when present).
    public static func hash(_ data: UnsafeRawBufferPointer) -> ObjectID {
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &digest) { d in
            Digest.sha256(data, into: d.baseAddress!)
            return ObjectID(bytes: d.baseAddress!)
        }
    }

    public static func hash(_ bytes: [UInt8]) -> ObjectID {
        bytes.withUnsafeBytes { hash($0) }
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

public extension SHA256Stream {
    /// The digest of everything passed to `update`, as an object id.
    func finish() -> ObjectID { ObjectID(bytes: finishBytes())! }
}

public extension ByteReader {
    @inlinable public mutating func readID() -> ObjectID? {
        guard remaining >= 32 else { return nil }
        defer { offset += 32 }
        return bytes.withUnsafeBytes { ObjectID(bytes: $0.baseAddress! + offset) }
    }
}
