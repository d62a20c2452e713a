// Byte and string helpers shared by every binary format and parser.
#if canImport(Glibc)
import Glibc
#endif

/// Little-endian integer encoding helpers for the binary formats.
public extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}

/// A bounds-checked little-endian reader over bytes: every read returns nil past the end,
/// so decoders of untrusted bytes never trap. Inlinable so that callers in other modules get
/// specialized code (the stat cache decodes tens of thousands of entries per command).
public struct ByteReader {
    public let bytes: [UInt8]
    public var offset: Int = 0

    @inlinable public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable public var remaining: Int { bytes.count - offset }

    @inlinable public mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        offset += size
        return T(littleEndian: v)
    }

    @inlinable public mutating func readBytes(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }
}

public extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and line breaks.
    var trimmed: String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let a = firstIndex(where: { !ws.contains($0) }), let b = lastIndex(where: { !ws.contains($0) }) else { return "" }
        return String(self[a...b])
    }
}

/// Byte-wise order of two strings' UTF-8 (memcmp on their contiguous storage, then length).
public func utf8Precedes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let n = min(x.count, y.count)
            if n > 0 {
                let c = memcmp(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c < 0 }
            }
            return x.count < y.count
        }
    }
}
