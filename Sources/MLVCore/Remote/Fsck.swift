// `mlv fsck` (`Fsck`) and its results: the local store verified by MLVStore's maintenance,
// then every reachable pointer's data (`Roots.objects`); a remote's packs and indexes; and
// `--repair`, the store's index rebuilt under the lock.
import MLVSystem
import MLVGit
import MLVStore
import Synchronization

public struct FsckProblem: Codable, Sendable, Equatable {
    public var what: String          // pack, index, object, pointer
    public var path: String
    public var problem: String
}

public struct FsckResult: Codable, Sendable {
    public var packs: Int
    public var objects: Int
    public var commits: Int
    public var problems: [FsckProblem]
    /// Snapshots whose data is not in this store but on a remote (its index listed it when
    /// this clone last fetched or pushed, or the clone has fetched nothing yet): not damage.
    public var notFetched: Int = 0
    /// Some of them are HEAD's or the working pointers': `mlv pull` brings them.
    public var headNotFetched = false
    /// Files in the history that end in `.mlv` but are not valid pointers: reported,
    /// skipped, not counted as damage to the store.
    public var skippedPointers: [String] = []

    enum CodingKeys: String, CodingKey {
        case packs, objects, commits, problems
        case skippedPointers = "skipped_pointers"
        case notFetched = "not_fetched"
        case headNotFetched = "head_not_fetched"
    }
}

public struct RepairResult: Codable, Sendable {
    public var packsIndexed: Int
    public var objects: Int
    public var indexesReplaced: Int
    /// Packs that failed verification, moved to .mlv/store/lost/ (kept, never deleted).
    public var quarantined: [String]

    enum CodingKeys: String, CodingKey {
        case objects, quarantined
        case packsIndexed = "packs_indexed"
        case indexesReplaced = "indexes_replaced"
    }
}

/// `mlv fsck`: the local store, its pointers' data, a remote, or the index's repair.
public struct Fsck {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv fsck --repair`: the store's `repairIndex` under the lock (indexes rebuilt from
    /// the verified packs; damaged packs moved to .mlv/store/lost/, where a fetch can bring
    /// their objects back from a remote).
    public func repair() throws -> RepairResult {
        let lock = try ws.lock("fsck --repair") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let store = try ws.store()
        store.removeStaleTemporaries()
        let r = try store.repairIndex()
        return RepairResult(packsIndexed: r.packsIndexed, objects: r.objects, indexesReplaced: r.indexesReplaced, quarantined: r.quarantined)
    }

    /// `mlv fsck --remote NAME`: every remote index checked against its name, every pack's
    /// id against its headers and every object in it decompressed and hashed (object storage:
    /// downloaded into .mlv/store/tmp, several at once, and removed), and every indexed pack
    /// present.
    public func run(remote name: String) throws -> FsckResult {
        let r = try ws.remote(name)
        try r.prepare(forWriting: false)
        let store = try ws.store()
        let problems = Mutex<[FsckProblem]>([])
        var listed = Set<ObjectID>()
        var listedObjects = Set<ObjectID>()
        for (n, size) in try r.indexFiles() {
            let rel = Layout.indexRel(n)
            do {
                guard size <= Sync.maxIndexSize else { throw r.userError(r.tooLarge(rel, size: size, limit: Sync.maxIndexSize)) }
                let bytes = try r.withLocalCopy(rel, tmpDir: store.tmpDir, limit: Sync.maxIndexSize) { try readWhole($0, limit: Sync.maxIndexSize) }
                guard indexFileName(bytes) == n else {
                    problems.withLock { $0.append(FsckProblem(what: StoreProblem.index, path: r.describe(rel), problem: "content does not match its name")) }
                    continue
                }
                let idx = try decodeIndex(bytes, path: r.describe(rel))
                listed.formUnion(idx.packs)
                listedObjects.formUnion(idx.entries.map(\.0))
            } catch { problems.withLock { $0.append(FsckProblem(what: StoreProblem.index, path: r.describe(rel), problem: "\(error)")) } }
        }
        let files = try r.packFiles()
        let objects = Tally()
        // Deltas whose base is in another of the remote's packs: decoded through the local
        // copy of a base the remote lists, and otherwise checked to be listed there (each
        // pack is downloaded alone); a base only the local store holds does not count.
        let listedSource = SendableBox(ListedOnly(store, listedObjects))
        let elsewhere = Mutex<[(pack: String, id: ObjectID, delta: ObjectID, base: ObjectID)]>([])
        try inParallel(files.keys.sorted(), workers: r.parallelism) { p in
            let rel = Layout.packRel(p)
            do {
                let problem: String? = try r.withLocalCopy(rel, tmpDir: store.tmpDir, limit: PackFormat.maxPackSize) { h in
                    guard try computePackID(h) == p else { return "headers do not match the pack's name" }
                    objects.add(UInt64(try verifyPack(h, bases: listedSource.value) { e, base in
                        elsewhere.withLock { $0.append((r.describe(rel), p, e.id, base)) }
                    }.count))
                    return nil
                }
                if let problem { problems.withLock { $0.append(FsckProblem(what: StoreProblem.pack, path: r.describe(rel), problem: problem)) } }
            } catch let e as RemoteError {
                // The remote stopped answering: not a finding about this pack (a damaged
                // file is one).
                guard case .damaged(_, _, let why) = e else { throw e }
                problems.withLock { $0.append(FsckProblem(what: StoreProblem.pack, path: r.describe(rel), problem: why)) }
            } catch {
                problems.withLock { $0.append(FsckProblem(what: StoreProblem.pack, path: r.describe(rel), problem: "\(error)")) }
            }
        }
        var found = problems.withLock { $0 }
        // Only for indexed packs: a pack no index lists yet (a push interrupted before its
        // index, whose base pack is still on its way) is nobody's data.
        for x in elsewhere.withLock({ $0 }) where listed.contains(x.id) && !listedObjects.contains(x.base) {
            found.append(FsckProblem(what: StoreProblem.pack, path: x.pack, problem: "delta \(x.delta.short) needs chunk \(x.base.short), which no index of the remote lists"))
        }
        for p in listed.subtracting(files.keys).sorted() {
            found.append(FsckProblem(what: StoreProblem.pack, path: r.describe(Layout.packRel(p)), problem: "indexed but missing"))
        }
        found.sort { ($0.path, $0.problem) < ($1.path, $1.problem) }
        return FsckResult(packs: files.count, objects: Int(objects.total), commits: 0, problems: found)
    }

    /// `mlv fsck`: reads every pack in full (each object decompressed and hashed), checks every
    /// index against its packs, and that every pointer in every commit reachable from HEAD
    /// resolves to objects the store has.
    public func run() throws -> FsckResult {
        let store = try ws.store()
        // The store itself: every pack and index (`Store.verify`).
        let check = try store.verify()
        var problems = check.problems.map { FsckProblem(what: $0.what, path: $0.path, problem: $0.problem) }
        let packs = check.packs, objects = check.objects
        // Pointers of every reachable commit.
        var commits = 0, notFetched = 0, headNotFetched = false
        var checked = Set<ObjectID>()
        // Missing data is damage unless a remote holds it, as git's partial clones treat
        // promisor objects: objects a remote's index listed when this clone last fetched or
        // pushed (.mlv/cache/remote-index) are "not fetched", and so is everything in a clone
        // whose store is still empty. Packs and indexes above are checked either way.
        var promised = Set<ObjectID>()
        for n in (try? FS.list(ws.remoteIndexCache)) ?? [] where Layout.isIndexFileName(n) {
            guard let bytes = try? FS.readAll(FS.join(ws.remoteIndexCache, n)), indexFileName(bytes) == n,
                  let idx = try? decodeIndex(bytes, path: n) else { continue }
            for (id, _, _) in idx.entries { promised.insert(id) }
        }
        let emptyClone = !ws.config.remotes.isEmpty && packs == 0
        var required = Set<ObjectID>()
        var skipped: [String] = []
        for (_, p) in try ws.targets() { if let s = p.snapshot { required.insert(s) } }
        if let head = try ws.git.head() {
            for (_, p) in try ws.readableTargets(at: head, skipped: &skipped) { if let s = p.snapshot { required.insert(s) } }
            skipped = []   // the history walk below meets HEAD again
            for c in try ws.git.history(from: head) {
                commits += 1
                for (path, p) in try ws.readableTargets(at: c, skipped: &skipped) {
                    guard let s = p.snapshot, checked.insert(s).inserted else { continue }
                    do {
                        _ = try Roots.objects(below: [s], store: store)
                        // The snapshot as a whole: limits, and totals against the pointer's.
                        if p.type == .dir {
                            try store.checkSnapshot(s, target: path, declared: (p.size, p.files))
                        } else if try store.manifest(s).size != p.size {
                            throw ObjectError.badSnapshot(target: path, why: "its pointer says \(counted(p.size, "byte")), the stored file has \(try store.manifest(s).size)")
                        }
                    } catch StoreError.missingObject(let id, _) where emptyClone || promised.contains(id) {
                        notFetched += 1
                        if required.contains(s) { headNotFetched = true }
                    } catch {
                        problems.append(FsckProblem(what: "pointer", path: "\(Pointer.pointerPath(for: path)) at \(c.short)", problem: userMessage(for: error)))
                    }
                }
            }
        }
        return FsckResult(packs: packs, objects: objects, commits: commits, problems: problems, notFetched: notFetched,
                          headNotFetched: headNotFetched, skippedPointers: skipped)
    }
}

/// The local store's objects that a remote's indexes list: what a remote pack's deltas may
/// be decoded against when the remote is checked.
private final class ListedOnly: ObjectSource {
    let store: Store
    let listed: Set<ObjectID>
    init(_ store: Store, _ listed: Set<ObjectID>) { self.store = store; self.listed = listed }
    func locate(_ id: ObjectID) throws -> (file: FileHandleFD, entry: PackedEntry)? {
        listed.contains(id) ? try store.locate(id) : nil
    }
}
