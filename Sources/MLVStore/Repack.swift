// Repack — the store's half of `mlv gc --aggressive`: every live object rewritten into new
// packs, each file's versions oldest first, every chunk re-encoded against the version
// before at a higher zstd level, as a commit would store it, and kept as it was stored when
// that is smaller (a repack never makes an object bigger). Stores written before deltas
// (or by commits whose previous version was not at hand) come out in delta form.
//
// Reverse deltas (git's order: newest whole) were measured and dropped: a chain that stays
// short must then span several versions per delta (Subversion's skip-deltas), and on
// fine-tuned weights and recomputed columns that cost more than the forward chains save
// (Tests/Benchmarks/history.py and models.py). Then prune's order: the new packs and their index, durable; only then the
// other indexes, then the old packs (a crash leaves at worst extra files). The caller
// finds what is live and each file's history, and holds the lock.
import MLVSystem
import MLVZstd

public struct RepackResult: Sendable, Equatable {
    public var packsBefore = 0
    public var packsAfter = 0
    /// Old packs deleted (a new pack with the same content keeps its name).
    public var packsRemoved = 0
    public var bytesBefore: UInt64 = 0
    public var bytesAfter: UInt64 = 0
    /// Chunks stored as deltas after the repack.
    public var deltas = 0
    public var objects = 0
}

extension Store {
    /// Rewrites the store to hold exactly `live`. `histories`: each file's manifests, newest
    /// first (written oldest first). `progress(done, total)`
    /// counts live objects.
    public func repack(live: Set<ObjectID>, histories: [[ObjectID]], level: Int32,
                       progress: ((Int, Int) -> Void)? = nil) throws -> RepackResult {
        try loadIndex()
        var result = RepackResult()
        let old = try knownPacks()
        result.packsBefore = old.count
        result.bytesBefore = old.reduce(0) { $0 + UInt64(FS.lstat(packPath($1))?.st_size ?? 0) }
        let writer = try self.writer(compressionLevel: level)
        let encoder = DeltaEncoder(store: self, compressor: ZstdCompressor(level: level))
        // Depths and bases in the new packs: a base must already be written there.
        let depths = DepthTable()
        encoder.baseInfo = { id in
            guard let d = depths.value[id] else { return nil }
            let h = depths.headers[id]
            return (d, h?.bases ?? [], h?.skip ?? 0)
        }
        let reader = ChunkReader(store: self)
        var chunk: [UInt8] = [], out: [UInt8] = []
        var done = 0

        func write(_ id: ObjectID, region: (chunks: [ManifestChunk], skip: Int)?) throws {
            guard depths.value[id] == nil, let loc = try location(of: id) else { return }
            done += 1
            if done % 256 == 0 { progress?(done, live.count) }
            guard loc.type == .chunk else {
                // Trees and manifests as they are stored.
                guard let (_, data) = try storedBytes(id) else { return }
                try data.withUnsafeBytes { try writer.add(id: id, type: loc.type, encoding: loc.encoding, rawLength: Int(loc.rawLength), data: $0) }
                depths.value[id] = 0
                return
            }
            chunk = [UInt8](repeating: 0, count: Int(loc.rawLength))
            try chunk.withUnsafeMutableBytes { try reader.read(id, at: loc, into: $0) }
            if out.count < zstdCompressBound(chunk.count) { out = [UInt8](repeating: 0, count: zstdCompressBound(chunk.count)) }
            let c = try chunk.withUnsafeBytes { src in try out.withUnsafeMutableBytes { try encoder.encode(src, region: region, into: $0) } }
            // The stored form so far, when smaller, stays as it is: a repack never makes an
            // object bigger. A delta keeps its bases, which are written already (older
            // versions come first), at its new depth, if within the limit.
            var kept: (depth: UInt16, header: DeltaHeader?)? = nil
            if Int(loc.storedLength) < (c.encoding == .raw ? chunk.count : c.length) {
                if loc.encoding != .delta {
                    kept = (0, nil)
                } else if let h = try deltaHeader(of: id) {
                    let ds = h.bases.compactMap { depths.value[$0] }
                    let d = (ds.max() ?? 0) + (h.bases.isEmpty ? 0 : 1)
                    if ds.count == h.bases.count && d <= DeltaEncoder.chainLimit { kept = (d, h) }
                }
            }
            let chosen: DeltaEncoder.Choice
            let header: DeltaHeader?
            if let kept, let (_, data) = try storedBytes(id) {
                try data.withUnsafeBytes { try writer.add(id: id, type: .chunk, encoding: loc.encoding, depth: kept.depth, rawLength: chunk.count, data: $0) }
                chosen = DeltaEncoder.Choice(encoding: loc.encoding, length: data.count, depth: kept.depth)
                header = kept.header
            } else if c.encoding == .raw {
                try chunk.withUnsafeBytes { try writer.add(id: id, type: .chunk, encoding: .raw, rawLength: chunk.count, data: $0) }
                (chosen, header) = (c, nil)
            } else {
                try out.withUnsafeBytes {
                    try writer.add(id: id, type: .chunk, encoding: c.encoding, depth: c.depth, rawLength: chunk.count,
                                   data: UnsafeRawBufferPointer(rebasing: $0[0..<c.length]))
                }
                (chosen, header) = (c, c.encoding == .delta ? encoder.lastHeader : nil)
            }
            if chosen.encoding == .delta { result.deltas += 1 }
            depths.value[id] = chosen.depth
            if let h = header, !h.bases.isEmpty { depths.headers[id] = h }
        }

        for history in histories {
            // Oldest first, each version against the one before, as commit stores them
            // (chains kept short by `DeltaEncoder`'s walk down), at `level`.
            var previous: DeltaBasis? = nil
            for m in history.reversed() where live.contains(m) {
                guard try location(of: m) != nil else { continue }
                let manifest = try self.manifest(m)
                // Aligned through the last chunk both versions share, as commit aligns them.
                var at: UInt64 = 0, shift: Int64 = 0
                for c in manifest.chunks {
                    if let b = previous, let o = b.offset(of: c.id) { shift = Int64(o) - Int64(at) }
                    var region: (chunks: [ManifestChunk], skip: Int)? = nil
                    if let b = previous, Int64(at) + shift >= 0 {
                        let start = UInt64(Int64(at) + shift)
                        let r = b.overlapping(start, start + UInt64(c.length))
                        if !r.chunks.isEmpty { region = r }
                    }
                    if live.contains(c.id) { try write(c.id, region: region) }
                    at += UInt64(c.length)
                }
                try write(m, region: nil)
                previous = DeltaBasis(manifest)
            }
        }
        // Everything else live: trees, manifests outside the histories, their chunks.
        for id in live.sorted() { try write(id, region: nil) }
        try writer.commit()
        progress?(live.count, live.count)
        let new = Set(writer.packsWritten)
        try replaceIndexes(with: try entries(inPacks: new))
        for p in old where !new.contains(p) {
            FS.remove(packPath(p))
            result.packsRemoved += 1
        }
        result.packsAfter = new.count
        result.bytesAfter = new.reduce(0) { $0 + UInt64(FS.lstat(packPath($1))?.st_size ?? 0) }
        result.objects = depths.value.count
        return result
    }
}

/// The new packs' depths, shared with the encoder's lookup closure.
private final class DepthTable {
    var value: [ObjectID: UInt16] = [:]
    var headers: [ObjectID: DeltaHeader] = [:]
}
