// ChunkReader — the one decoder of stored objects: raw, zstd, and deltas (Delta.swift),
// whose bases it reads first, through the same code, from wherever its `ObjectSource`
// finds them (the store, or packs being verified before they join it). One decompressor,
// one scratch buffer sized to the largest entry met, and a cache of decoded bases, so a
// file read in order decodes each version of a region once. One reader per thread.
//
// Bounds, whatever a pack claims: a delta's bases are strictly shallower (so a chain ends
// within `PackFormat.maxDeltaDepth` steps), hold at most `maxDeltaBaseBytes` together,
// and one read decodes at most `maxDecodedPerRead` bytes of bases (a crafted graph of
// bases cannot make it loop or grow); memory is the cache plus one level's bases per
// level of the chain being resolved.
import MLVSystem
import MLVZstd

/// Where a reader finds an object: the pack file holding it and its entry.
public protocol ObjectSource: AnyObject {
    func locate(_ id: ObjectID) throws -> (file: FileHandleFD, entry: PackedEntry)?
}

public final class ChunkReader {
    public let source: any ObjectSource
    /// Stored bytes of the entry being decoded (allocated by hand: `readStored` hands out a
    /// view of it that outlives any closure).
    private var scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
    private var work: [UInt8] = []
    private var prefix: [UInt8] = []
    private let decompressor = ZstdDecompressor()
    private var cache = BaseCache(limit: 8 << 20)
    private var decodedThisRead = 0
    /// Bases are hashed only when a read failed: the delta's own SHA-256 covers every byte
    /// of its chain (a wrong base byte cannot give the right result), and skipping the
    /// bases' hashes takes a third off a deep read. The retry hashes each level, so the
    /// error names the object actually damaged.
    private var hashBases = false

    /// Far above what a legitimate chain costs (depth 32, a few bases per level: ~10 MiB cold).
    static let maxDecodedPerRead = 256 << 20

    public init(store: Store) { source = store }
    public init(source: any ObjectSource) { self.source = source }
    deinit { scratch.deallocate() }

    func cachedBase(_ id: ObjectID) -> [UInt8]? { cache.get(id) }
    func remember(_ id: ObjectID, _ bytes: [UInt8]) { cache.put(id, bytes) }

    /// Reads object `id`, found at `loc` in the store, into `out` (exactly `loc.rawLength`
    /// bytes), decoded and checked against its SHA-256.
    public func read(_ id: ObjectID, at loc: Location, into out: UnsafeMutableRawBufferPointer) throws {
        guard let store = source as? Store else {
            return try read(id, into: out)
        }
        try checked(id, PackedEntry(id: id, location: loc), try store.handle(forPack: loc.pack), into: out)
    }

    /// A top-level read: on failure of a delta, once more with every base hashed.
    private func checked(_ id: ObjectID, _ e: PackedEntry, _ f: FileHandleFD, into out: UnsafeMutableRawBufferPointer) throws {
        decodedThisRead = 0
        do { try decode(id, e, f, into: out) } catch where e.encoding == .delta && !hashBases {
            cache = BaseCache(limit: cache.limit)
            hashBases = true
            defer { hashBases = false }
            decodedThisRead = 0
            try decode(id, e, f, into: out)
        }
    }

    /// Reads object `id` wherever the source finds it.
    public func read(_ id: ObjectID, into out: UnsafeMutableRawBufferPointer) throws {
        guard let (f, e) = try source.locate(id) else { throw StoreError.missingObject(id, type: .chunk) }
        try checked(id, e, f, into: out)
    }

    /// Reads `e`'s stored bytes, entry header first, into `scratch`; checks the header
    /// against what the index said.
    private func readStored(_ id: ObjectID, _ e: PackedEntry, _ f: FileHandleFD, count: Int) throws -> UnsafeRawBufferPointer {
        func bad(_ why: String) -> StoreError { .corruptPack(path: f.path, offset: e.offset, why: why) }
        if scratch.count < count {
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        }
        let n = try f.pread(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count]), at: e.offset)
        guard n == count else { throw bad("pack is truncated") }
        let header = try decodeEntryHeader(Array(scratch[0..<PackFormat.entryHeaderSize]), path: f.path, offset: e.offset)
        guard header.id == id, header.storedLength == e.storedLength, header.rawLength == e.rawLength,
              header.encoding == e.encoding, header.depth == e.depth else {
            throw bad("entry header does not match the index (expected \(id.short))")
        }
        return UnsafeRawBufferPointer(rebasing: scratch[PackFormat.entryHeaderSize..<count])
    }

    private func decode(_ id: ObjectID, _ e: PackedEntry, _ f: FileHandleFD, into out: UnsafeMutableRawBufferPointer,
                        asBase: Bool = false) throws {
        func bad(_ why: String) -> StoreError { .corruptPack(path: f.path, offset: e.offset, why: why) }
        guard out.count == Int(e.rawLength) else {
            throw bad("object \(id.short) is listed with \(out.count) bytes, the index says \(e.rawLength)")
        }
        let total = PackFormat.entryHeaderSize + Int(e.storedLength)
        switch e.encoding {
        case .raw:
            let data = try readStored(id, e, f, count: total)
            guard data.count == out.count else { throw bad("raw object \(id.short) has the wrong length") }
            out.copyMemory(from: data)
        case .zstd:
            let data = try readStored(id, e, f, count: total)
            do { try decompressor.decompress(data, into: out) } catch let z as ZstdError { throw bad("object \(id.short): \(z)") }
        case .delta:
            try decodeDelta(id, e, f, into: out)
        }
        guard (asBase && !hashBases) || ObjectID.hash(UnsafeRawBufferPointer(out)) == id else {
            throw bad("object \(id.short) fails its SHA-256 check")
        }
    }

    private func decodeDelta(_ id: ObjectID, _ e: PackedEntry, _ f: FileHandleFD, into out: UnsafeMutableRawBufferPointer) throws {
        func bad(_ why: String) -> StoreError { .corruptPack(path: f.path, offset: e.offset, why: "delta \(id.short): \(why)") }
        // The header alone first: the bases are decoded (through `scratch` too) before the frame is read.
        let headed = try readStored(id, e, f, count: PackFormat.entryHeaderSize + min(Int(e.storedLength), DeltaHeader.maxSize))
        let header: DeltaHeader
        switch DeltaHeader.parse(headed) {
        case .success(let h): header = h
        case .failure(let why): throw bad(why.description)
        }
        guard header.size <= Int(e.storedLength) else { throw bad("shorter than its header") }
        if !header.bases.isEmpty && e.depth == 0 { throw bad("has bases but depth 0") }
        var bases: [[UInt8]] = []
        var baseBytes = 0
        for b in header.bases {
            if let cached = cache.get(b) {
                bases.append(cached)
                baseBytes += cached.count
                continue
            }
            // A base whose pack file is gone is a missing base: the error names both chunks.
            let found: (file: FileHandleFD, entry: PackedEntry)?
            do { found = try source.locate(b) } catch StoreError.missingPack { throw StoreError.missingBase(delta: id, base: b) }
            guard let (bf, be) = found else { throw StoreError.missingBase(delta: id, base: b) }
            guard be.type == .chunk else { throw bad("its base \(b.short) is a \(be.type)") }
            guard be.depth < e.depth else { throw bad("its base \(b.short) has depth \(be.depth), not below its own \(e.depth)") }
            baseBytes += Int(be.rawLength)
            guard baseBytes <= PackFormat.maxDeltaBaseBytes else { throw bad("its bases hold more than \(PackFormat.maxDeltaBaseBytes) bytes") }
            decodedThisRead += Int(be.rawLength)
            guard decodedThisRead <= ChunkReader.maxDecodedPerRead else { throw bad("its chain decodes more than \(ChunkReader.maxDecodedPerRead >> 20) MiB") }
            var buf = [UInt8](repeating: 0, count: Int(be.rawLength))
            do { try buf.withUnsafeMutableBytes { try decode(b, be, bf, into: $0, asBase: true) } } catch StoreError.corruptPack(let path, let offset, let why) where path == bf.path && offset == be.offset {
                // The base itself is damaged (not one further down its chain): name the delta too.
                throw StoreError.corruptPack(path: path, offset: offset, why: "\(why) (chunk \(id.short) is stored as a delta against it)")
            }
            cache.put(b, buf)
            bases.append(buf)
        }
        let data = try readStored(id, e, f, count: PackFormat.entryHeaderSize + Int(e.storedLength))
        let frame = UnsafeRawBufferPointer(rebasing: data[header.size...])
        prefix.removeAll(keepingCapacity: true)
        for b in bases { prefix.append(contentsOf: b) }
        do {
            switch header.transform {
            case .prefix:
                try prefix.withUnsafeBytes { try decompressor.decompress(frame, prefix: $0, into: out) }
            case .xorPlanes, .planes:
                if work.count < out.count { work = [UInt8](repeating: 0, count: out.count) }
                try work.withUnsafeMutableBytes { w in
                    let planes = UnsafeMutableRawBufferPointer(rebasing: w[0..<out.count])
                    try decompressor.decompress(frame, into: planes)
                    ByteTransform.unplanes(UnsafeRawBufferPointer(planes), width: header.width, into: out)
                }
                if header.transform == .xorPlanes {
                    prefix.withUnsafeBytes { ByteTransform.xor(out, with: $0, skip: header.skip) }
                }
            }
        } catch let z as ZstdError { throw bad("\(z)") }
    }
}

/// Decoded bases, oldest dropped first once over `limit` bytes.
struct BaseCache {
    let limit: Int
    private var items: [ObjectID: [UInt8]] = [:]
    private var order: [ObjectID] = []
    private var head = 0
    private var bytes = 0

    init(limit: Int) { self.limit = limit }

    func get(_ id: ObjectID) -> [UInt8]? { items[id] }

    mutating func put(_ id: ObjectID, _ value: [UInt8]) {
        guard items[id] == nil, value.count <= limit else { return }
        items[id] = value
        order.append(id)
        bytes += value.count
        while bytes > limit, head < order.count {
            if let v = items.removeValue(forKey: order[head]) { bytes -= v.count }
            head += 1
        }
        if head > 4096 { order.removeFirst(head); head = 0 }
    }
}

extension PackedEntry {
    init(id: ObjectID, location l: Location) {
        self.init(id: id, offset: l.offset, storedLength: l.storedLength, rawLength: l.rawLength,
                  type: l.type, encoding: l.encoding, depth: l.depth)
    }
}
