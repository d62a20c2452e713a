// DeltaEncoder — how a new chunk is stored: zstd (or raw), a delta against the previous
// version's chunks covering the same region of the same file (Delta.swift), or byte planes
// of float data; whichever is smallest. Only the parent version is searched (no global
// similarity index): a commit knows it, and measurements (Tests/Benchmarks/history.py,
// delta_probe.py) show it is where nearly all the savings are.
import MLVSystem
import MLVZstd
import Synchronization

final class DeltaEncoder {
    let store: Store?
    let compressor: ZstdCompressor
    private lazy var reader: ChunkReader? = store.map { ChunkReader(store: $0) }
    private var concat: [UInt8] = []
    private var work: [UInt8] = []
    private var candidate: [UInt8] = []
    /// The delta header of the last `encode`'s choice (nil when not a delta).
    private(set) var lastHeader: DeltaHeader?

    /// What `encode` chose: the encoding, the stored length (0 = nothing to store, -1 = not
    /// chosen yet: `BlockStage`'s markers), and the delta depth.
    struct Choice: Sendable {
        var encoding: Encoding
        var length: Int
        var depth: UInt16
        static let stored = Choice(encoding: .raw, length: 0, depth: 0)
        static let pending = Choice(encoding: .raw, length: -1, depth: 0)
    }

    init(store: Store?, compressor: ZstdCompressor) {
        self.store = store
        self.compressor = compressor
    }

    /// Encodes `chunk` into `dst` (at least `zstdCompressBound(chunk.count)` bytes; for a
    /// raw choice nothing is written: the caller stores the chunk's own bytes). `region`:
    /// the previous version's chunks covering the chunk's bytes, and where it starts in them.
    func encode(_ chunk: UnsafeRawBufferPointer, region: (chunks: [ManifestChunk], skip: Int)?,
                into dst: UnsafeMutableRawBufferPointer) throws -> Choice {
        lastHeader = nil
        let plain = try compressor.compress(chunk, into: dst)
        var best = Encoding.choose(rawLength: chunk.count, compressedLength: plain) == .raw
            ? Choice(encoding: .raw, length: chunk.count, depth: 0) : Choice(encoding: .zstd, length: plain, depth: 0)
        guard chunk.count <= PackFormat.maxDeltaObjectSize, chunk.count >= 64 else { return best }
        let width = ByteTransform.floatWidth(chunk)
        if candidate.count < zstdCompressBound(chunk.count) { candidate = [UInt8](repeating: 0, count: zstdCompressBound(chunk.count)) }

        /// Takes the candidate frame (in `candidate`) when it beats the best so far by the
        /// margin `Encoding.choose` asks of compression.
        func consider(_ h: DeltaHeader, frame: Int, depth: UInt16) {
            let size = h.size + frame
            guard size < best.length, size < chunk.count - chunk.count / 32 else { return }
            let head = h.encoded()
            dst.copyBytes(from: head)
            candidate.withUnsafeBytes { c in
                UnsafeMutableRawBufferPointer(rebasing: dst[head.count..<size]).copyMemory(from: UnsafeRawBufferPointer(rebasing: c[0..<frame]))
            }
            best = Choice(encoding: .delta, length: size, depth: depth)
            lastHeader = h
        }

        if let region, let (bases, skip, depth) = try loadBases(region.chunks, skip: region.skip, length: chunk.count) {
            if let w = width {
                // Floats that moved a little: XOR with the old bytes at the same place keeps
                // sign, exponent and high mantissa bits at 0; planes put those zeros together.
                work = Array(chunk)
                work.withUnsafeMutableBytes { x in concat.withUnsafeBytes { ByteTransform.xor(x, with: $0, skip: skip) } }
                let n = try planesFrame(work, width: w)
                consider(DeltaHeader(transform: .xorPlanes, width: w, bases: bases, skip: skip), frame: n, depth: depth)
            } else {
                let n = try concat.withUnsafeBytes { p in
                    try candidate.withUnsafeMutableBytes { try compressor.compress(chunk, prefix: p, into: $0) }
                }
                consider(DeltaHeader(transform: .prefix, bases: bases, skip: skip), frame: n, depth: depth)
            }
        }
        if let w = width {
            let n = try planesFrame(Array(chunk), width: w)
            consider(DeltaHeader(transform: .planes, width: w), frame: n, depth: 0)
        }
        return best
    }

    /// Byte planes of `bytes`, zstd-compressed into `candidate`; returns the frame's length.
    private func planesFrame(_ bytes: [UInt8], width: Int) throws -> Int {
        var planes = [UInt8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBytes { s in planes.withUnsafeMutableBytes { ByteTransform.planes(s, width: width, into: $0) } }
        return try planes.withUnsafeBytes { p in try candidate.withUnsafeMutableBytes { try compressor.compress(p, into: $0) } }
    }

    /// What a chunk is as a base: its depth, and when a delta its own bases and where its
    /// region starts in them (its `skip`). nil: it cannot be
    /// one. From the store's index, or from `baseInfo` when set.
    private func info(_ id: ObjectID) throws -> (depth: UInt16, bases: [ObjectID], skip: Int)? {
        if let baseInfo { return try baseInfo(id) }
        guard let store, let loc = try store.location(of: id), loc.type == .chunk else { return nil }
        guard loc.encoding == .delta else { return (0, [], 0) }
        guard let h = try? store.deltaHeader(of: id) else { return nil }
        return (loc.depth, h.bases, h.skip)
    }

    /// Overrides `info` (a repack: depths and bases as written to the new packs).
    var baseInfo: ((ObjectID) throws -> (depth: UInt16, bases: [ObjectID], skip: Int)?)?

    /// The bases for a chunk whose region in the previous version is `region` (from `skip`
    /// on), read into `concat`; nil when there are none.
    ///
    /// The chain is kept short by walking down, not by starting over: while the region's
    /// chunks are shallower than `chainLimit` they are the bases; once a chain reaches it,
    /// the region is followed down its own bases (older versions of the same bytes) to
    /// depth `chainLimit / 2`, and the new chunk is a delta against that older version.
    /// Depths stay within [limit/2, limit] and no version is stored whole again: a delta
    /// spanning a few versions costs a few times one spanning one, where a new full copy
    /// would cost the whole chunk (Tests/Benchmarks/history.py).
    private func loadBases(_ region: [ManifestChunk], skip: Int, length chunkLength: Int) throws -> (ids: [ObjectID], skip: Int, depth: UInt16)? {
        guard let store, let reader else { return nil }
        var level = region.map(\.id), at = skip
        var infos: [(depth: UInt16, bases: [ObjectID], skip: Int)] = []
        var target: UInt16? = nil
        while true {
            infos = []
            for id in level {
                guard let i = try info(id) else { break }
                infos.append(i)
            }
            level = Array(level.prefix(infos.count))
            guard let deepest = infos.map(\.depth).max() else { return nil }
            if deepest < (target ?? DeltaEncoder.chainLimit) { break }
            target = DeltaEncoder.chainLimit / 2
            // One version down: the chunks covering the region replaced by their bases
            // (a chunk stored whole stands for itself), and the region followed into them
            // through each delta's `skip`.
            var next: [ObjectID] = [], nextAt: Int? = nil, offset = 0
            for (id, i) in zip(level, infos) {
                guard let loc = try store.location(of: id) else { break }
                let length = Int(loc.rawLength)
                defer { offset += length }
                if offset + length <= at { continue }
                if offset >= at + chunkLength { break }
                if nextAt == nil { nextAt = (i.depth == 0 ? 0 : i.skip) + max(0, at - offset) }
                for b in (i.depth == 0 ? [id] : i.bases) where !next.contains(b) { next.append(b) }
            }
            at = nextAt ?? 0
            level = Array(next.prefix(DeltaHeader.maxBases))
        }
        concat.removeAll(keepingCapacity: true)
        var ids: [ObjectID] = [], depth: UInt16 = 0
        for (id, i) in zip(level, infos) {
            guard let loc = try store.location(of: id), concat.count + Int(loc.rawLength) <= PackFormat.maxDeltaBaseBytes else { break }
            // An old version the store can no longer read (a lost or damaged pack) is no
            // base: the new one is stored without it rather than not at all (fsck and reads
            // of the old version report the damage).
            let bytes: [UInt8]
            do { bytes = try reader.readCached(id, at: loc) } catch is StoreError { break }
            concat.append(contentsOf: bytes)
            ids.append(id)
            depth = max(depth, i.depth + 1)
        }
        guard !ids.isEmpty, at <= PackFormat.maxDeltaBaseBytes else { return nil }
        return (ids, at, depth)
    }

    /// The deepest chain writers make: reading a chunk decodes at most this many older
    /// versions of its bytes (readers accept up to `PackFormat.maxDeltaDepth`). Measured on
    /// Tests/Benchmarks/history.py: the newest of 60 versions reads within 2x the oldest.
    static let chainLimit: UInt16 = 12
}

extension ChunkReader {
    /// A chunk's bytes through the cache of decoded bases: the encoder reads the old
    /// region of each new chunk, and neighbouring new chunks share old ones. A hit is
    /// hashed (bases decoded inside a chain are cached unhashed): a delta must be made
    /// against exactly the bytes its base id names.
    func readCached(_ id: ObjectID, at loc: Location) throws -> [UInt8] {
        if let hit = cachedBase(id), ObjectID.hash(hit) == id { return hit }
        var buf = [UInt8](repeating: 0, count: Int(loc.rawLength))
        try buf.withUnsafeMutableBytes { try read(id, at: loc, into: $0) }
        remember(id, buf)
        return buf
    }
}

extension BlockStage {
    /// The second pass of a block whose file has a previous version: new chunks (marked
    /// `pending` by the first pass) are encoded against the old chunks covering their
    /// region. The region is aligned through the last chunk both versions share (in file
    /// order: bytes inserted or removed before it shift everything after), so it needs the
    /// ids of all chunks before; hence a pass of its own.
    func encodeAgainst(_ basis: DeltaBasis, block b: Block, ids: [ObjectID], chosen: inout [DeltaEncoder.Choice],
                       slots: UnsafeMutableRawBufferPointer, starts: [Int]) throws {
        let count = ids.count
        var regions = [(chunks: [ManifestChunk], skip: Int)?](repeating: nil, count: count)
        for i in 0..<count {
            let at = b.offset + UInt64(b.bounds[i])
            if let old = basis.offset(of: ids[i]) { shift = Int64(old) - Int64(at) }
            guard chosen[i].length == -1 else { continue }
            let start = Int64(at) + shift
            guard start >= 0 else { continue }
            let end = UInt64(start) + UInt64(b.bounds[i + 1] - b.bounds[i])
            let r = basis.overlapping(UInt64(start), end)
            if !r.chunks.isEmpty { regions[i] = r }
        }
        let src = SendableBox(UnsafeRawBufferPointer(b.buf))
        let bounds = b.bounds
        let work = SendableBox(regions)
        let encoders = SendableBox(self.encoders)
        let out = SendableBox(slots)
        let next = Mutex(0)
        let failure = Mutex<(any Error)?>(nil)
        try chosen.withUnsafeMutableBufferPointer { cp in
            let c = SendableBox(cp)
            parallel(min(encoders.value.count, count)) { w in
                while true {
                    let i = next.withLock { n in
                        defer { n += 1 }
                        return n
                    }
                    if i >= count { break }
                    guard c.value[i].length == -1 else { continue }
                    do {
                        let chunk = UnsafeRawBufferPointer(rebasing: src.value[bounds[i]..<bounds[i + 1]])
                        let dst = UnsafeMutableRawBufferPointer(rebasing: out.value[starts[i]..<starts[i + 1]])
                        c.value[i] = try encoders.value[w].encode(chunk, region: work.value[i], into: dst)
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                }
            }
            if let e = failure.withLock({ $0 }) { throw e }
        }
    }
}
