import MLVSystem
import Glibc
import MLVZstd
import Synchronization

/// The local object store: the folders and `VERSION` file of `Layout` under one root.
///
/// Readers need no lock: packs and indexes are written once, under a temporary name, and
/// renamed into place only when complete, so a reader sees whole files or none. Writers hold
/// the repository lock (`StoreLock`) for the whole write session.
public final class Store: @unchecked Sendable, ObjectSource {
    // @unchecked: all mutable state is inside `state`, behind a Mutex.
    public let root: String
    public var packsDir: String { FS.join(root, Layout.packsDir) }
    public var indexDir: String { FS.join(root, Layout.indexDir) }
    public var tmpDir: String { FS.join(root, Layout.tmpDir) }
    /// Where `repairIndex` moves damaged packs (kept, never deleted).
    public var lostDir: String { FS.join(root, Layout.lostDir) }

    struct State {
        var loaded = false
        var packs: [ObjectID] = []
        var packNumber: [ObjectID: Int32] = [:]
        var objects: [ObjectID: Location] = [:]
        var handles: [Int32: FileHandleFD] = [:]
        var indexFiles: Set<String> = []
        /// Index files read but not merged into `objects`: a command that looks up only a few
        /// ids (status) binary-searches them instead of building the whole table.
        var raw: [(name: String, bytes: [UInt8])]? = nil
        var rawLookups = 0
        /// Delta entries among `objects`: walks look chunks up for their bases only when
        /// there is any.
        var deltas = 0
    }

    /// After this many lookups the indexes are merged into one hash table.
    static let rawLookupLimit = 64
    private let state = Mutex(State())
    /// Held by `loadIndex` for its whole run.
    private let loading = Mutex(())

    /// `VERSION`'s content: the format version of the packs and indexes written.
    public static func versionLine(_ v: UInt32 = PackFormat.version) -> String { "mlv-store \(v)\n" }
    /// The version `VERSION` says (older stores stay as they are until written to).
    public private(set) var formatVersion: UInt32
    private var versionPath: String { FS.join(root, Layout.versionFile) }

    /// Opens the store at `root`, creating its folders on first use.
    public init(root: String) throws {
        self.root = root
        let versionPath = FS.join(root, Layout.versionFile)
        if FS.exists(versionPath) {
            let text = String(decoding: try FS.readAll(versionPath), as: UTF8.self)
            guard let v = PackFormat.readableVersions.first(where: { Store.versionLine($0) == text }) else {
                let found = UInt32(text.split(separator: " ").last?.trimmed ?? "") ?? 0
                throw StoreError.unsupportedVersion(path: versionPath, found: found)
            }
            formatVersion = v
        } else {
            try FS.makeDirectories(root)
            try FS.atomicWrite(Array(Store.versionLine().utf8), to: versionPath)
            formatVersion = PackFormat.version
        }
        // Recreated if deleted by hand: an empty folder is a valid (empty) part of a store.
        for d in [packsDir, indexDir, tmpDir] { try FS.makeDirectories(d) }
    }

    /// Reads (and checks against their names) the index files not yet known.
    private func readNewIndexFiles() throws -> [(name: String, bytes: [UInt8])] {
        let names = try indexFileNames()
        let known = state.withLock { s in s.indexFiles.union(s.raw?.map(\.name) ?? []) }
        var out: [(String, [UInt8])] = []
        for name in names where !known.contains(name) {
            let path = FS.join(indexDir, name)
            let bytes = try FS.readAll(path)
            guard Layout.indexFileName(bytes) == name else {
                throw StoreError.corruptIndex(path: path, why: "content does not match its name (damaged on disk?)")
            }
            out.append((name, bytes))
        }
        return out
    }

    /// Loads every index file into the lookup table. Cheap to call again. One caller at a
    /// time: a second one (another thread's lookup past `rawLookupLimit`) waits, so neither
    /// returns, nor sets `loaded`, while files the other took are not registered yet.
    public func loadIndex() throws {
        try loading.withLock { _ in
            // New files first (while the raw ones still count as known), then the raw ones.
            let fresh = try readNewIndexFiles()
            let pending = (state.withLock { s -> [(name: String, bytes: [UInt8])] in
                defer { s.raw = nil }
                return s.raw ?? []
            }) + fresh
            for (name, bytes) in pending {
                register(try decodeIndex(bytes, path: FS.join(indexDir, name)), file: name)
            }
            state.withLock { $0.loaded = true }
        }
    }

    /// Binary search of one raw index file; nil when absent. Validates what it returns, with
    /// `decodeIndex`'s own checks (`decodeIndexHeader`, `decodeIndexEntry`).
    private func search(_ id: ObjectID, in raw: (name: String, bytes: [UInt8])) throws -> (ObjectID, PackedEntry)? {
        let b = raw.bytes
        let path = FS.join(indexDir, raw.name)
        let (pc, ec) = try decodeIndexHeader(b, path: path)
        var lo = 0, hi = ec
        while lo < hi {
            let mid = (lo + hi) / 2
            let e = indexEntryID(b, mid, packCount: pc)
            if e == id {
                let (_, n, entry) = try decodeIndexEntry(b, mid, packCount: pc, path: path)
                return (indexPack(b, n), entry)
            }
            if e < id { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }

    func register(_ idx: DecodedIndex, file: String) {
        state.withLock { s in
            s.indexFiles.insert(file)
            var numbers: [Int32] = []
            for p in idx.packs {
                if let n = s.packNumber[p] { numbers.append(n); continue }
                let n = Int32(s.packs.count)
                s.packs.append(p)
                s.packNumber[p] = n
                numbers.append(n)
            }
            s.objects.reserveCapacity(s.objects.count + idx.entries.count)
            for (id, n, e) in idx.entries {
                s.objects[id] = Location(pack: numbers[n], offset: e.offset, storedLength: e.storedLength,
                                         rawLength: e.rawLength, type: e.type, encoding: e.encoding, depth: e.depth)
                if e.encoding == .delta { s.deltas += 1 }
            }
        }
    }

    private func ensureLoaded() throws {
        if !state.withLock({ $0.loaded }) { try loadIndex() }
    }

    public func location(of id: ObjectID) throws -> Location? {
        if state.withLock({ $0.loaded }) { return state.withLock { $0.objects[id] } }
        // Few lookups so far: search the index files as they are.
        let many = state.withLock { s -> Bool in
            s.rawLookups += 1
            return s.rawLookups > Store.rawLookupLimit
        }
        if many {
            try loadIndex()
            return state.withLock { $0.objects[id] }
        }
        if state.withLock({ $0.raw == nil }) {
            let files = try readNewIndexFiles()
            // Another thread may have set the raw files since: add to them, never replace
            // them (this read left out what was already there, so replacing them with it
            // once left none, and every lookup missed until the merge: 62 in 96,000).
            state.withLock { s in
                guard let raw = s.raw else { s.raw = files; return }
                let have = Set(raw.map(\.name))
                s.raw = raw + files.filter { !have.contains($0.name) }
            }
        }
        for raw in state.withLock({ $0.raw ?? [] }) {
            guard let (pack, e) = try search(id, in: raw) else { continue }
            return state.withLock { s in
                let n: Int32
                if let k = s.packNumber[pack] { n = k } else {
                    n = Int32(s.packs.count)
                    s.packs.append(pack)
                    s.packNumber[pack] = n
                }
                return Location(pack: n, offset: e.offset, storedLength: e.storedLength, rawLength: e.rawLength,
                                type: e.type, encoding: e.encoding, depth: e.depth)
            }
        }
        // Not in the raw files this thread saw. Another thread may be merging them meanwhile:
        // `loadIndex` takes the raw files (this thread then sees none) and registers them one
        // by one, all under `loading`. Wait for it to end; then its table answers. (Reading
        // the table at once missed objects not registered yet: 125 of 96,000 lookups in the
        // race test on a loaded machine.)
        loading.withLock { _ in }
        return state.withLock { $0.objects[id] }
    }

    public func contains(_ id: ObjectID) throws -> Bool { try location(of: id) != nil }

    public func locate(_ id: ObjectID) throws -> (file: FileHandleFD, entry: PackedEntry)? {
        guard let loc = try location(of: id) else { return nil }
        return (try handle(forPack: loc.pack), PackedEntry(id: id, location: loc))
    }

    public var objectCount: Int { state.withLock { $0.objects.count } }

    /// All packs the indexes know, with their paths.
    public func knownPacks() throws -> [ObjectID] {
        try ensureLoaded()
        return state.withLock { $0.packs }
    }

    /// Every indexed object, grouped by the pack holding it (for building indexes elsewhere).
    public func entries(inPacks wanted: Set<ObjectID>) throws -> [(ObjectID, [PackedEntry])] {
        try ensureLoaded()
        return state.withLock { s in
            var byPack: [Int32: [PackedEntry]] = [:]
            let numbers = Set(wanted.compactMap { s.packNumber[$0] })
            for (id, loc) in s.objects where numbers.contains(loc.pack) {
                byPack[loc.pack, default: []].append(PackedEntry(id: id, location: loc))
            }
            return byPack.map { (s.packs[Int($0.key)], $0.value.sorted { $0.offset < $1.offset }) }.sorted { $0.0 < $1.0 }
        }
    }

    /// An object exactly as stored (for repacking without recompressing).
    public func storedBytes(_ id: ObjectID) throws -> (Location, [UInt8])? {
        guard let loc = try location(of: id) else { return nil }
        let f = try handle(forPack: loc.pack)
        var data = [UInt8](repeating: 0, count: Int(loc.storedLength))
        let start = loc.offset + UInt64(PackFormat.entryHeaderSize)
        guard try data.withUnsafeMutableBytes({ try f.pread(into: $0, at: start) }) == data.count else {
            throw StoreError.corruptPack(path: f.path, offset: loc.offset, why: "truncated")
        }
        return (loc, data)
    }

    /// Index files and their pack lists, as on disk now.
    public func indexFileNames() throws -> [String] { try FS.list(indexDir).filter(Layout.isIndexFileName).sorted() }

    /// The pack holding an indexed object.
    public func pack(of id: ObjectID) throws -> ObjectID? {
        guard let loc = try location(of: id) else { return nil }
        return state.withLock { $0.packs[Int(loc.pack)] }
    }

    /// Adds complete, verified pack files (moved from `tmp`) with one index for them all:
    /// the packs first, then the index (a reader never finds an indexed pack missing, nor a
    /// delta whose base's pack is not indexed yet).
    public func adopt(_ packs: [(tmp: String, id: ObjectID, entries: [PackedEntry])]) throws {
        guard !packs.isEmpty else { return }
        for p in packs { try placePack(p.tmp, id: p.id) }
        try writeIndex(packs: packs.map { ($0.id, $0.entries) })
    }

    /// Renames a complete, fsynced pack file into `packs/XX/`, its name and folder durable.
    func placePack(_ tmp: String, id: ObjectID) throws {
        try FS.moveIntoPlace(tmp, to: packPath(id))
    }

    /// Writes one index file for packs already in place, and makes its objects visible.
    /// An older store's `VERSION` is raised first: an older mlv must refuse the store
    /// ("upgrade mlv") rather than meet a pack or index it cannot read.
    @discardableResult
    func writeIndex(packs: [(ObjectID, [PackedEntry])]) throws -> String {
        if formatVersion < PackFormat.version {
            try FS.atomicWrite(Array(Store.versionLine().utf8), to: versionPath)
            formatVersion = PackFormat.version
        }
        let bytes = encodeIndex(packs: packs)
        let name = Layout.indexFileName(bytes)
        try FS.atomicWrite(bytes, to: FS.join(indexDir, name))
        register(try decodeIndex(bytes, path: name), file: name)
        return name
    }

    public func packPath(_ id: ObjectID) -> String { FS.join(root, Layout.packRel(id)) }

    func handle(forPack n: Int32) throws -> FileHandleFD {
        if let h = state.withLock({ $0.handles[n] }) { return h }
        let id = state.withLock { $0.packs[Int(n)] }
        let path = packPath(id)
        let h: FileHandleFD
        do { h = try FileHandleFD.openRead(path) } catch let e as IOError where e.code == ENOENT {
            throw StoreError.missingPack(path: path)
        }
        return state.withLock { s in
            if let other = s.handles[n] { return other }
            s.handles[n] = h
            return h
        }
    }

    /// Whether any indexed object is a delta. Loads the whole index: the answer must hold
    /// for every index file, not only those searched so far.
    public func hasDeltas() throws -> Bool {
        try ensureLoaded()
        return state.withLock { $0.deltas > 0 }
    }

    /// The chunks a delta is stored against (none for any other object): read from its
    /// entry's first bytes, checked as every read checks them.
    public func deltaBases(of id: ObjectID) throws -> [ObjectID] {
        try deltaHeader(of: id)?.bases ?? []
    }

    /// A delta's header (nil for any other object).
    public func deltaHeader(of id: ObjectID) throws -> DeltaHeader? {
        guard let loc = try location(of: id), loc.encoding == .delta else { return nil }
        return try readDeltaHeader(try handle(forPack: loc.pack), PackedEntry(id: id, location: loc))
    }

    /// Reads a whole object into a new array (manifests and trees; chunks go through `ChunkReader`).
    public func readObject(_ id: ObjectID, type: ObjectType) throws -> [UInt8] {
        guard let loc = try location(of: id) else { throw StoreError.missingObject(id, type: type) }
        guard loc.type == type else {
            throw StoreError.corruptIndex(path: indexDir, why: "object \(id.short) is a \(loc.type), expected a \(type)")
        }
        var out = [UInt8](repeating: 0, count: Int(loc.rawLength))
        let reader = ChunkReader(store: self)
        try out.withUnsafeMutableBytes { try reader.read(id, at: loc, into: $0) }
        return out
    }

    /// Starts a write session. The caller must hold the repository lock. Loads the whole
    /// index first: a writer looks up every chunk, from several threads.
    public func writer(compressionLevel: Int32) throws -> StoreWriter {
        try loadIndex()
        return StoreWriter(store: self, level: compressionLevel)
    }
}

/// One write session: objects go into new packs; `commit()` writes the index that makes them
/// visible. Until then nothing refers to the new packs, so a crash leaves only garbage.
public final class StoreWriter {
    public let store: Store
    private let compressor: ZstdCompressor
    private var pack: PackWriter?
    private var finished: [(ObjectID, [PackedEntry])] = []
    private var closed: [(ObjectID, PackWriter)] = []   // written, write-back started, not yet durable
    private var added: Set<ObjectID> = []
    /// Packs this session made durable so far (`commit`).
    public private(set) var packsWritten: [ObjectID] = []
    /// The name of the index the last `commit` wrote (nil before, or when it wrote none).
    public private(set) var lastIndex: String?
    /// Bytes of objects written in this session: uncompressed, and as stored.
    public private(set) var newRawBytes: UInt64 = 0
    public private(set) var newStoredBytes: UInt64 = 0
    /// Of `newRawBytes`, the chunks': file data stored for the first time, never more than
    /// the bytes read (manifests and trees describe data; they are not part of it).
    public private(set) var newChunkBytes: UInt64 = 0

    init(store: Store, level: Int32) {
        self.store = store
        self.compressor = ZstdCompressor(level: level)
    }

    deinit {
        pack?.abandon()
        for (_, p) in closed { p.abandon() }
    }

    /// True when the object is already stored or was added in this session.
    public func has(_ id: ObjectID) throws -> Bool {
        if added.contains(id) { return true }
        return try store.contains(id)
    }

    /// Appends an already encoded object. `data` is the stored form (raw or a zstd frame).
    public func add(id: ObjectID, type: ObjectType, encoding: Encoding, depth: UInt16 = 0, rawLength: Int,
                    data: UnsafeRawBufferPointer) throws {
        if added.contains(id) { return }
        // Readers refuse larger objects, so a writer must never produce one.
        guard rawLength <= PackFormat.maxObjectSize, data.count <= PackFormat.maxObjectSize else {
            throw StoreError.objectTooLarge(id: id, type: type, size: rawLength)
        }
        if pack == nil { pack = try PackWriter(tmpDir: store.tmpDir) }
        try pack!.add(id: id, type: type, encoding: encoding, depth: depth, rawLength: rawLength, data: data)
        added.insert(id)
        newRawBytes += UInt64(rawLength)
        newStoredBytes += UInt64(data.count)
        if type == .chunk { newChunkBytes += UInt64(rawLength) }
        if pack!.size >= UInt64(PackFormat.targetPackSize) { try closePack() }
    }

    /// Hashes, compresses (keeping the raw bytes when zstd does not help) and adds `bytes`.
    @discardableResult
    public func addObject(_ bytes: [UInt8], type: ObjectType) throws -> ObjectID {
        let id = ObjectID.hash(bytes)
        if try has(id) { return id }
        try bytes.withUnsafeBytes { src in
            let (encoding, stored) = try encode(src, compressor: compressor)
            try stored.withUnsafeBytes { try add(id: id, type: type, encoding: encoding, rawLength: src.count, data: $0) }
        }
        return id
    }

    private func closePack() throws {
        guard let p = pack else { return }
        pack = nil
        closed.append((p.close(), p))
    }

    /// Closes the open pack, makes every pack of the session durable under its final name,
    /// then writes one index for them all, which makes the new objects visible to readers.
    public func commit() throws {
        try closePack()
        for (id, p) in closed {
            try p.publish(id: id, store: store)
            finished.append((id, p.entries))
            packsWritten.append(id)
        }
        closed = []
        guard !finished.isEmpty else { return }
        lastIndex = try store.writeIndex(packs: finished)
        finished = []
    }
}

/// zstd-compresses `src`, or keeps it raw when compression saves too little (`Encoding.choose`).
public func encode(_ src: UnsafeRawBufferPointer, compressor: ZstdCompressor) throws -> (Encoding, [UInt8]) {
    var out = [UInt8](repeating: 0, count: zstdCompressBound(src.count))
    let n = try out.withUnsafeMutableBytes { try compressor.compress(src, into: $0) }
    if Encoding.choose(rawLength: src.count, compressedLength: n) == .raw { return (.raw, Array(src)) }
    out.removeLast(out.count - n)
    return (.zstd, out)
}
