// Repack — the store's half of `mlv gc --aggressive`: every live object rewritten into new
// packs, chunks re-encoded as deltas the way git's repack orders them: the newest version
// of each file whole, older versions against newer ones (reverse deltas, in Subversion's
// skip-delta pattern), so the versions read most are the cheapest to read, no version is
// more than log2(versions) deltas deep, and a clone fetching only HEAD needs no older pack. Then prune's order: the new packs and their index, durable; only then the
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
    /// first (the order chunks are written and deltas chosen in). `progress(done, total)`
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
            if c.encoding == .raw {
                try chunk.withUnsafeBytes { try writer.add(id: id, type: .chunk, encoding: .raw, rawLength: chunk.count, data: $0) }
            } else {
                try out.withUnsafeBytes {
                    try writer.add(id: id, type: .chunk, encoding: c.encoding, depth: c.depth, rawLength: chunk.count,
                                   data: UnsafeRawBufferPointer(rebasing: $0[0..<c.length]))
                }
            }
            if c.encoding == .delta { result.deltas += 1 }
            depths.value[id] = c.depth
            if c.encoding == .delta, let h = encoder.lastHeader, !h.bases.isEmpty { depths.headers[id] = h }
        }

        for history in histories {
            // Skip-deltas (Subversion's): version i (0 = newest) is stored against version
            // i with its lowest set bit cleared, so reading any version decodes at most
            // popcount(i) <= log2(versions) others, while each delta spans few versions.
            var versions: [DeltaBasis] = []
            for m in history where live.contains(m) {
                guard try location(of: m) != nil else { continue }
                let manifest = try self.manifest(m)
                let i = versions.count
                let newer: DeltaBasis? = i == 0 ? nil : versions[i & (i - 1)]
                // Aligned through the last chunk both versions share, as commit aligns them.
                var at: UInt64 = 0, shift: Int64 = 0
                for c in manifest.chunks {
                    if let b = newer, let o = b.offset(of: c.id) { shift = Int64(o) - Int64(at) }
                    var region: (chunks: [ManifestChunk], skip: Int)? = nil
                    if let b = newer, Int64(at) + shift >= 0 {
                        let start = UInt64(Int64(at) + shift)
                        let r = b.overlapping(start, start + UInt64(c.length))
                        if !r.chunks.isEmpty { region = r }
                    }
                    if live.contains(c.id) { try write(c.id, region: region) }
                    at += UInt64(c.length)
                }
                try write(m, region: nil)
                versions.append(DeltaBasis(manifest))
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
