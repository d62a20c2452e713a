// Delta — a chunk stored against the previous version's chunks covering the same region of
// the same file (encoding 2, `Encoding.delta`). Documented in man/mlv-store.5; keep the two
// in step. All integers little-endian. The stored bytes of a delta entry:
//
//   u8  transform   1 = prefix: a zstd frame made with the bases' bytes, concatenated in
//                       order, as its history (zstd's --patch-from)
//                   2 = xor planes: the chunk's bytes XOR the bases' concatenated bytes
//                       from `skip` on (a missing base byte counts as 0), split into byte
//                       planes of `width`, then one zstd frame (fine-tuned float weights:
//                       an unchanged sign, exponent or high mantissa byte XORs to 0)
//                   3 = planes: byte planes of `width`, then one zstd frame; no base
//                       (float data seen for the first time)
//   u8  width       2, 4 or 8 for transforms 2 and 3; 0 for 1
//   u8  base count  1...4 for transforms 1 and 2; 0 for 3
//   u8  reserved    0
//   u32 skip        where the chunk's region starts in the bases' bytes: transform 2 XORs
//                   from there; for 1 it is what the writer aligned by (readers ignore it,
//                   writers follow a chain's region down through it); 0 for 3
//   base count x 32-byte base ids (chunks)
//   the zstd frame, decoding to exactly the chunk's length
//
// Byte planes of width w: for n = length / w whole elements, plane p holds byte p of every
// element in order (n bytes per plane, plane 0 first); the length % w trailing bytes
// follow as they are.
//
// Depth: a chunk with no base has depth 0; a delta's depth is one more than its deepest
// base (index and entry header carry it). Writers keep chains within
// `DeltaEncoder.chainLimit`, readers refuse any over `PackFormat.maxDeltaDepth`,
// and readers refuse a base that is not strictly shallower than its delta, so resolving a
// chain always ends.
import MLVSystem
import MLVZstd

public struct DeltaHeader: Sendable, Equatable {
    public enum Transform: UInt8, Sendable { case prefix = 1, xorPlanes = 2, planes = 3 }
    public var transform: Transform
    public var width: Int
    public var bases: [ObjectID]
    public var skip: Int

    public static let fixedSize = 8
    public static let maxBases = 4
    /// The longest header: what a reader of bases only (walks) needs to read.
    public static let maxSize = fixedSize + maxBases * 32
    public var size: Int { DeltaHeader.fixedSize + bases.count * 32 }

    public init(transform: Transform, width: Int = 0, bases: [ObjectID] = [], skip: Int = 0) {
        self.transform = transform
        self.width = width
        self.bases = bases
        self.skip = skip
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = [transform.rawValue, UInt8(width), UInt8(bases.count), 0]
        out.appendLE(UInt32(skip))
        for b in bases { out.append(contentsOf: b.bytes) }
        return out
    }

    /// Parses and checks a header at the start of `bytes`; the reason when it is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<DeltaHeader, DeltaFormatError> {
        guard bytes.count >= fixedSize else { return .failure(.init("truncated delta header")) }
        guard let t = Transform(rawValue: bytes[0]) else { return .failure(.init("unknown delta transform \(bytes[0])")) }
        let width = Int(bytes[1]), count = Int(bytes[2])
        guard bytes[3] == 0 else { return .failure(.init("reserved delta header byte is \(bytes[3])")) }
        let skip = Int(bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        switch t {
        case .prefix:
            guard width == 0, (1...maxBases).contains(count) else { return .failure(.init("bad prefix delta header")) }
        case .xorPlanes:
            guard [2, 4, 8].contains(width), (1...maxBases).contains(count) else { return .failure(.init("bad xor delta header")) }
        case .planes:
            guard [2, 4, 8].contains(width), count == 0, skip == 0 else { return .failure(.init("bad planes header")) }
        }
        guard bytes.count >= fixedSize + count * 32 else { return .failure(.init("truncated delta base list")) }
        let bases = (0..<count).map { ObjectID(bytes: bytes.baseAddress! + fixedSize + $0 * 32) }
        guard Set(bases).count == count else { return .failure(.init("a base is listed twice")) }
        guard skip <= PackFormat.maxDeltaBaseBytes else { return .failure(.init("delta skip \(skip) is out of range")) }
        return .success(DeltaHeader(transform: t, width: width, bases: bases, skip: skip))
    }
}

/// What is wrong with a delta's own bytes (the caller names the pack and object).
public struct DeltaFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ why: String) { description = why }
}

extension DeltaFormatError: CategorizedError {
    public var category: ErrorCategory { .integrity }
}

/// The byte-plane transform and its inverse, and XOR against a base region.
public enum ByteTransform {
    /// `src` split into planes of `width` into `dst` (same length).
    public static func planes(_ src: UnsafeRawBufferPointer, width: Int, into dst: UnsafeMutableRawBufferPointer) {
        permute(src, width: width, into: dst, toPlanes: true)
    }

    /// The inverse of `planes`.
    public static func unplanes(_ src: UnsafeRawBufferPointer, width: Int, into dst: UnsafeMutableRawBufferPointer) {
        permute(src, width: width, into: dst, toPlanes: false)
    }

    /// Byte `i` of element `e` sits at `e * width + i` interleaved and at `i * n + e` in
    /// planes; the trailing `count % width` bytes stay where they are either way.
    private static func permute(_ src: UnsafeRawBufferPointer, width: Int, into dst: UnsafeMutableRawBufferPointer, toPlanes: Bool) {
        let n = src.count / width
        let s = src.bindMemory(to: UInt8.self), d = dst.bindMemory(to: UInt8.self)
        for p in 0..<width {
            var interleaved = p, planar = p * n
            for _ in 0..<n {
                if toPlanes { d[planar] = s[interleaved] } else { d[interleaved] = s[planar] }
                interleaved += width
                planar += 1
            }
        }
        for k in (n * width)..<src.count { d[k] = s[k] }
    }

    /// `buf[i] ^= base[skip + i]` where the base has that byte.
    public static func xor(_ buf: UnsafeMutableRawBufferPointer, with base: UnsafeRawBufferPointer, skip: Int) {
        // An empty buffer may have no address (a 0-byte delta decodes into one).
        guard skip < base.count, let raw = buf.baseAddress, let start = base.baseAddress else { return }
        let n = min(buf.count, base.count - skip)
        let b = buf.bindMemory(to: UInt8.self), s = base.bindMemory(to: UInt8.self)
        var i = 0
        // Eight bytes at a time where both have them; the rest byte by byte.
        let bp = start + skip
        while i + 8 <= n {
            let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ bp.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            raw.storeBytes(of: x, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < n { b[i] ^= s[skip + i]; i += 1 }
    }

    /// The element width of float data in `chunk`, or nil when it does not look like
    /// floats. Float bytes at the same position of each element differ in how much they
    /// vary: a sign-and-exponent byte takes few values, mantissa bytes many. Counted over
    /// positions mod 8 on a sample: one low-variety position in 8 means 8-byte floats, one
    /// in 4 (twice in 8) 4-byte floats, one in 2 two-byte ones (f16, bf16). Text has no
    /// such pattern; neither does compressed or random data.
    public static func floatWidth(_ chunk: UnsafeRawBufferPointer) -> Int? {
        // 8 KiB: 1,024 bytes per position, enough to tell ~30 values from ~250. Runs on
        // every new chunk of every commit, so one flat table and no bounds checks.
        let sample = min(chunk.count, 8 * 1024) & ~7
        guard sample >= 4096, let base = chunk.baseAddress else { return nil }
        var distinct = [Int](repeating: 0, count: 8)
        withUnsafeTemporaryAllocation(of: Bool.self, capacity: 8 * 256) { seen in
            seen.initialize(repeating: false)
            let p = base.assumingMemoryBound(to: UInt8.self)
            for i in 0..<sample {
                let k = (i & 7) << 8 | Int(p[i])
                if !seen[k] { seen[k] = true; distinct[i & 7] += 1 }
            }
        }
        // Few values: at most half the byte range (an f16's high byte, sign, 5 exponent and
        // 2 mantissa bits, takes 80-100 values for weights); many: most of it.
        let low = (0..<8).filter { distinct[$0] <= 128 }
        guard !low.isEmpty, (0..<8).contains(where: { distinct[$0] >= 160 }) else { return nil }
        let mod2 = Set(low.map { $0 % 2 }), mod4 = Set(low.map { $0 % 4 })
        if low.count == 4 && mod2.count == 1 { return 2 }
        if low.count == 2 && mod4.count == 1 { return 4 }
        // A double's top byte, and often the next one (the exponent's low bits).
        if low.count == 1 || (low.count == 2 && low[1] - low[0] == 1) { return 8 }
        return nil
    }
}

/// The previous version of the file being stored: its chunks and where each starts, so a
/// new chunk finds the old ones covering the same region.
public struct DeltaBasis: Sendable {
    public let chunks: [ManifestChunk]
    let starts: [UInt64]
    /// Old offset of each old chunk, by id (the first occurrence), to align the regions of
    /// new chunks after an unchanged one (`Archiver`).
    let offsetOf: [ObjectID: UInt64]

    public init(_ manifest: FileManifest) {
        chunks = manifest.chunks
        var s: [UInt64] = []
        s.reserveCapacity(chunks.count)
        var at: UInt64 = 0
        var o: [ObjectID: UInt64] = [:]
        for c in chunks {
            s.append(at)
            if o[c.id] == nil { o[c.id] = at }
            at += UInt64(c.length)
        }
        starts = s
        offsetOf = o
    }

    /// Where chunk `id` starts in the old file, when it is one of its chunks.
    public func offset(of id: ObjectID) -> UInt64? { offsetOf[id] }

    /// The old chunks overlapping bytes [start, end) of the old file, at most
    /// `DeltaHeader.maxBases` and `PackFormat.maxDeltaBaseBytes` of them from the first,
    /// with the offset of `start` within the first one.
    public func overlapping(_ start: UInt64, _ end: UInt64) -> (chunks: [ManifestChunk], skip: Int) {
        guard !chunks.isEmpty, start < end else { return ([], 0) }
        // The last chunk starting at or before `start`.
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if starts[mid] <= start { lo = mid + 1 } else { hi = mid }
        }
        var i = max(0, lo - 1)
        guard starts[i] + UInt64(chunks[i].length) > start else { return ([], 0) }   // past the old end
        let skip = Int(start - starts[i])
        var out: [ManifestChunk] = [], bytes = 0
        while i < chunks.count && starts[i] < end && out.count < DeltaHeader.maxBases
                && bytes + Int(chunks[i].length) <= PackFormat.maxDeltaBaseBytes {
            if !out.contains(where: { $0.id == chunks[i].id }) {
                out.append(chunks[i])
                bytes += Int(chunks[i].length)
            } else { break }   // a repeated chunk: the concatenation would no longer be the region
            i += 1
        }
        return (out, skip)
    }
}
