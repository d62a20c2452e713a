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

extension Workspace {
    /// `mlv fsck --repair`: rebuilds the indexes from the packs themselves. Every pack is
    /// verified (id against headers, every object decompressed and hashed); the good ones get
    /// one new index, written before the old indexes are removed (a crash in between leaves
    /// duplicate entries, which readers tolerate). A damaged pack is moved aside to
    /// .mlv/store/lost/ rather than deleted: its intact objects may still be wanted, and a
    /// fetch can bring them back from a remote.
    public func repair() throws -> RepairResult {
        let lock = try self.lock("fsck --repair") { _ in }
        defer { withExtendedLifetime(lock) {} }
        let store = try store()
        removeStaleTemporaries(store.tmpDir)
        var good: [(ObjectID, [PackedEntry])] = []
        var lost: [String] = []
        let lostDir = FS.join(FS.dirname(store.packsDir), "lost")
        for sub in try FS.listSorted(store.packsDir) {
            for f in try FS.listSorted(FS.join(store.packsDir, sub)) where f.hasSuffix(".pack") {
                let path = FS.join(store.packsDir, "\(sub)/\(f)")
                let id = ObjectID(hex: f.dropLast(5))
                var ok = false
                if let id, let h = try? FileHandleFD.openRead(path), (try? computePackID(h)) == id, let entries = try? verifyPack(h) {
                    good.append((id, entries))
                    ok = true
                }
                if !ok {
                    try FS.makeDirectories(lostDir)
                    try FS.rename(path, FS.join(lostDir, f))
                    try FS.syncDirectory(lostDir)
                    lost.append(path)
                }
            }
        }
        let bytes = encodeIndex(packs: good)
        let name = indexFileName(bytes)
        try FS.atomicWrite(bytes, to: FS.join(store.indexDir, name))
        var replaced = 0
        for n in try store.indexFileNames() where n != name {
            FS.remove(FS.join(store.indexDir, n))
            replaced += 1
        }
        try FS.syncDirectory(store.indexDir)
        return RepairResult(packsIndexed: good.count, objects: good.reduce(0) { $0 + $1.1.count }, indexesReplaced: replaced, quarantined: lost)
    }

    /// `mlv fsck --remote NAME`: every remote index checked against its name, every pack's
    /// id against its headers and every object in it decompressed and hashed (object storage:
    /// downloaded into .mlv/store/tmp, several at once, and removed), and every indexed pack
    /// present.
    public func fsckRemote(_ name: String?) throws -> FsckResult {
        let r = try remote(name)
        try r.prepare(forWriting: false)
        let store = try store()
        let problems = Mutex<[FsckProblem]>([])
        var listed = Set<ObjectID>()
        for (n, size) in try r.indexFiles() {
            let rel = "index/\(n)"
            do {
                guard size <= maxRemoteIndexSize else { throw r.tooLarge(rel, size: size, limit: maxRemoteIndexSize) }
                let bytes = try r.withLocalCopy(rel, tmpDir: store.tmpDir, limit: maxRemoteIndexSize) { try readWhole($0, limit: maxRemoteIndexSize) }
                guard indexFileName(bytes) == n else {
                    problems.withLock { $0.append(FsckProblem(what: "index", path: r.describe(rel), problem: "content does not match its name")) }
                    continue
                }
                listed.formUnion(try decodeIndex(bytes, path: r.describe(rel)).packs)
            } catch { problems.withLock { $0.append(FsckProblem(what: "index", path: r.describe(rel), problem: "\(error)")) } }
        }
        let files = try r.packFiles()
        let objects = Tally()
        try inParallel(files.keys.sorted(), workers: r.parallelism) { p in
            let rel = remotePackRel(p)
            do {
                let problem: String? = try r.withLocalCopy(rel, tmpDir: store.tmpDir, limit: PackFormat.maxPackSize) { h in
                    guard try computePackID(h) == p else { return "headers do not match the pack's name" }
                    objects.add(UInt64(try verifyPack(h).count))
                    return nil
                }
                if let problem { problems.withLock { $0.append(FsckProblem(what: "pack", path: r.describe(rel), problem: problem)) } }
            } catch let e as RemoteError {
                // The remote stopped answering: not a finding about this pack (a damaged
                // file is one).
                guard case .damaged(_, _, let why) = e else { throw e }
                problems.withLock { $0.append(FsckProblem(what: "pack", path: r.describe(rel), problem: why)) }
            } catch {
                problems.withLock { $0.append(FsckProblem(what: "pack", path: r.describe(rel), problem: "\(error)")) }
            }
        }
        var found = problems.withLock { $0 }
        for p in listed.subtracting(files.keys).sorted() {
            found.append(FsckProblem(what: "pack", path: r.describe(remotePackRel(p)), problem: "indexed but missing"))
        }
        found.sort { ($0.path, $0.problem) < ($1.path, $1.problem) }
        return FsckResult(packs: files.count, objects: Int(objects.total), commits: 0, problems: found)
    }

    /// `mlv fsck`: reads every pack in full (each object decompressed and hashed), checks every
    /// index against its packs, and that every pointer in every commit reachable from HEAD
    /// resolves to objects the store has.
    public func fsck() throws -> FsckResult {
        let store = try store()
        var problems: [FsckProblem] = []
        var packs = 0, objects = 0
        // Indexes: each must match its name and decode.
        var indexed: [ObjectID: [PackedEntry]] = [:]
        for name in try FS.list(store.indexDir).filter({ $0.hasSuffix(".idx") }).sorted() {
            let path = FS.join(store.indexDir, name)
            do {
                let bytes = try FS.readAll(path)
                guard indexFileName(bytes) == name else {
                    problems.append(FsckProblem(what: "index", path: path, problem: "content does not match its name"))
                    continue
                }
                let idx = try decodeIndex(bytes, path: path)
                for (_, n, e) in idx.entries { indexed[idx.packs[n], default: []].append(e) }
            } catch {
                problems.append(FsckProblem(what: "index", path: path, problem: "\(error)"))
            }
        }
        // Packs: every object verified; every indexed pack present.
        var present = Set<ObjectID>()
        for sub in try FS.list(store.packsDir) {
            for f in try FS.list(FS.join(store.packsDir, sub)) where f.hasSuffix(".pack") {
                let path = FS.join(store.packsDir, "\(sub)/\(f)")
                guard let id = ObjectID(hex: f.dropLast(5)) else { continue }
                present.insert(id)
                packs += 1
                do {
                    let h = try FileHandleFD.openRead(path)
                    guard try computePackID(h) == id else {
                        problems.append(FsckProblem(what: "pack", path: path, problem: "headers do not match the pack's name"))
                        continue
                    }
                    let entries = try verifyPack(h)
                    objects += entries.count
                    let at = Set(entries.map { "\($0.id.hex)@\($0.offset)" })
                    for e in indexed[id] ?? [] where !at.contains("\(e.id.hex)@\(e.offset)") {
                        problems.append(FsckProblem(what: "index", path: path, problem: "indexed object \(e.id.short) is not at offset \(e.offset)"))
                    }
                } catch {
                    problems.append(FsckProblem(what: "pack", path: path, problem: "\(error)"))
                }
            }
        }
        for p in indexed.keys where !present.contains(p) {
            problems.append(FsckProblem(what: "pack", path: store.packPath(p), problem: "indexed but missing"))
        }
        // Pointers of every reachable commit.
        var commits = 0, notFetched = 0, headNotFetched = false
        var checked = Set<ObjectID>()
        // Missing data is damage unless a remote holds it, as git's partial clones treat
        // promisor objects: objects a remote's index listed when this clone last fetched or
        // pushed (.mlv/cache/remote-index) are "not fetched", and so is everything in a clone
        // whose store is still empty. Packs and indexes above are checked either way.
        var promised = Set<ObjectID>()
        for n in (try? FS.list(remoteIndexCache)) ?? [] where n.hasSuffix(".idx") {
            guard let bytes = try? FS.readAll(FS.join(remoteIndexCache, n)), indexFileName(bytes) == n,
                  let idx = try? decodeIndex(bytes, path: n) else { continue }
            for (id, _, _) in idx.entries { promised.insert(id) }
        }
        let emptyClone = !config.remotes.isEmpty && packs == 0
        var required = Set<ObjectID>()
        var skipped: [String] = []
        for (_, p) in try targets() { if let s = p.snapshot { required.insert(s) } }
        if let head = try git.head() {
            for (_, p) in try readableTargets(at: head, skipped: &skipped) { if let s = p.snapshot { required.insert(s) } }
            skipped = []   // the history walk below meets HEAD again
            for c in try git.history(from: head) {
                commits += 1
                for (path, p) in try readableTargets(at: c, skipped: &skipped) {
                    guard let s = p.snapshot, checked.insert(s).inserted else { continue }
                    do {
                        _ = try closure([s], store: store)
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
                        problems.append(FsckProblem(what: "pointer", path: "\(Pointer.pointerPath(for: path)) at \(c.short)", problem: "\(error)"))
                    }
                }
            }
        }
        return FsckResult(packs: packs, objects: objects, commits: commits, problems: problems, notFetched: notFetched,
                          headNotFetched: headNotFetched, skippedPointers: skipped)
    }
}
