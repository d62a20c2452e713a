import MLVGit
import MLVStore

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
}

extension Workspace {
    /// `mlv fsck --remote NAME`: every remote index checked against its name, every pack's
    /// id against its headers and every object in it decompressed and hashed, and every
    /// indexed pack present.
    public func fsckRemote(_ name: String?) throws -> FsckResult {
        let r = try remote(name)
        guard FS.isDirectory(r.root) else { throw RemoteError.unreachable(remote: r.name, why: "\(r.root) does not exist") }
        var problems: [FsckProblem] = []
        var listed = Set<ObjectID>()
        for n in try r.indexNames() {
            let path = FS.join(r.root, "index/\(n)")
            do {
                let bytes = try FS.readAll(path)
                guard ObjectID.hash(bytes).hex + ".idx" == n else {
                    problems.append(FsckProblem(what: "index", path: path, problem: "content does not match its name"))
                    continue
                }
                listed.formUnion(try decodeIndex(bytes, path: path).packs)
            } catch { problems.append(FsckProblem(what: "index", path: path, problem: "\(error)")) }
        }
        var objects = 0
        let files = try r.packs()
        for p in files.sorted() {
            do {
                let h = try FileHandleFD.openRead(r.packPath(p))
                guard try computePackID(h) == p else {
                    problems.append(FsckProblem(what: "pack", path: r.packPath(p), problem: "headers do not match the pack's name"))
                    continue
                }
                objects += try verifyPack(h).count
            } catch { problems.append(FsckProblem(what: "pack", path: r.packPath(p), problem: "\(error)")) }
        }
        for p in listed.subtracting(files) {
            problems.append(FsckProblem(what: "pack", path: r.packPath(p), problem: "indexed but missing"))
        }
        return FsckResult(packs: files.count, objects: objects, commits: 0, problems: problems)
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
                guard ObjectID.hash(bytes).hex + ".idx" == name else {
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
        var commits = 0
        var checked = Set<ObjectID>()
        if let head = try git.head() {
            for c in try git.history(from: head) {
                commits += 1
                for (path, p) in try targets(at: c) {
                    guard let s = p.snapshot, checked.insert(s).inserted else { continue }
                    do { _ = try closure([s], store: store) } catch {
                        problems.append(FsckProblem(what: "pointer", path: "\(Pointer.pointerPath(for: path)) at \(c.short)", problem: "\(error)"))
                    }
                }
            }
        }
        return FsckResult(packs: packs, objects: objects, commits: commits, problems: problems)
    }
}
