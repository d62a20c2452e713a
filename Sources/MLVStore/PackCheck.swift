// PackCheck — a pack file checked object by object against the ids its headers claim,
// before it joins a store (fetch) or while the store is checked (fsck, repair).
import MLVSystem
import MLVZstd

/// Reads every object of a pack and checks it against its id: type and encoding known,
/// zstd frames decoding to exactly the recorded size, SHA-256 matching. Returns the entries.
/// Packs checked here come from elsewhere (a remote, a damaged store) and their headers may
/// declare sizes they do not hold: every object is streamed through fixed buffers (the
/// stored bytes read 1 MiB at a time, the decoded ones hashed as they come), so memory
/// stays a few MiB whatever an entry declares.
///
/// Deltas are decoded in full, their bases read from this pack or `bases`. A delta whose
/// base neither has is an error, unless `unresolved` takes it (a remote's pack checked on
/// its own: the base is in another of the remote's packs).
///
/// `scanned`: the pack's entries when the caller has read them already (`scanPack`).
public func verifyPack(_ f: FileHandleFD, scanned: [PackedEntry]? = nil, bases: (any ObjectSource)?,
                       unresolved: ((PackedEntry, ObjectID) -> Void)? = nil) throws -> [PackedEntry] {
    let entries = try scanned ?? scanPack(f)
    var deltas: [PackedEntry] = []
    let d = ZstdStreamDecoder()
    var input = [UInt8](repeating: 0, count: 1 << 20)
    for e in entries {
        if e.encoding == .delta { deltas.append(e); continue }
        func bad(_ why: String) -> StoreError { .corruptPack(path: f.path, offset: e.offset, why: why) }
        let hasher = SHA256Stream()
        var produced: UInt64 = 0
        var at = e.offset + UInt64(PackFormat.entryHeaderSize)
        var left = Int(e.storedLength)
        d.reset()
        while left > 0 {
            let want = min(left, input.count)
            let n = try input.withUnsafeMutableBytes { try f.pread(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), at: at) }
            guard n == want else { throw bad("truncated") }
            try input.withUnsafeBytes { buf in
                let piece = UnsafeRawBufferPointer(rebasing: buf[0..<n])
                switch e.encoding {
                case .raw:
                    produced += UInt64(n)
                    hasher.update(piece)
                case .delta: break   // not reached: checked below, once its bases can be read
                case .zstd:
                    do {
                        try d.feed(piece) { out in
                            produced += UInt64(out.count)
                            // Stop at the first byte past the recorded size: a frame declaring
                            // (or producing) more is damaged, however much more.
                            guard produced <= UInt64(e.rawLength) else {
                                throw ZstdError.sizeMismatch(expected: Int(e.rawLength), actual: Int(clamping: produced))
                            }
                            hasher.update(out)
                        }
                    } catch let z as ZstdError { throw bad("object \(e.id.short): \(z)") }
                }
            }
            left -= n
            at += UInt64(n)
        }
        if e.encoding == .zstd && !d.atFrameEnd { throw bad("object \(e.id.short): \(ZstdError.corruptFrame("the frame ends early"))") }
        guard produced == UInt64(e.rawLength), hasher.finish() == e.id else {
            throw bad("object \(e.id.short) fails its SHA-256 check")
        }
    }
    // Deltas last, decoded in full through the same reader as every read: their bases
    // come from this pack or from `bases`. Their size is bounded (`maxDeltaObjectSize`).
    if !deltas.isEmpty {
        let reader = ChunkReader(source: PackOverlay([(f, entries)], fallback: bases))
        var out = [UInt8]()
        for e in deltas {
            out = [UInt8](repeating: 0, count: Int(e.rawLength))
            do { try out.withUnsafeMutableBytes { try reader.read(e.id, into: $0) } } catch StoreError.missingBase(_, let base) where unresolved != nil {
                unresolved?(e, base)
            }
        }
    }
    return entries
}

/// The header of delta entry `e` of pack `f`, checked.
public func readDeltaHeader(_ f: FileHandleFD, _ e: PackedEntry) throws -> DeltaHeader {
    let n = min(Int(e.storedLength), DeltaHeader.maxSize)
    var buf = [UInt8](repeating: 0, count: n)
    guard try buf.withUnsafeMutableBytes({ try f.pread(into: $0, at: e.offset + UInt64(PackFormat.entryHeaderSize)) }) == n else {
        throw StoreError.corruptPack(path: f.path, offset: e.offset, why: "truncated")
    }
    switch buf.withUnsafeBytes({ DeltaHeader.parse($0) }) {
    case .success(let h): return h
    case .failure(let why): throw StoreError.corruptPack(path: f.path, offset: e.offset, why: "delta \(e.id.short): \(why)")
    }
}

/// Objects of pack files not (yet) in a store's indexes, found before `fallback` (the
/// store): what verifying downloaded or unindexed packs reads deltas' bases through.
public final class PackOverlay: ObjectSource {
    private var objects: [ObjectID: (FileHandleFD, PackedEntry)] = [:]
    private let fallback: (any ObjectSource)?

    public init(_ packs: [(FileHandleFD, [PackedEntry])], fallback: (any ObjectSource)?) {
        for (f, es) in packs { for e in es where objects[e.id] == nil { objects[e.id] = (f, e) } }
        self.fallback = fallback
    }

    public func locate(_ id: ObjectID) throws -> (file: FileHandleFD, entry: PackedEntry)? {
        if let hit = objects[id] { return hit }
        return try fallback?.locate(id)
    }
}
