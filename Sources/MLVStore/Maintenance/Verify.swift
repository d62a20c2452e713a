// Verify — the store's own check (restic's checker): every index against its name and its
// packs, every pack's id against its headers, every object decompressed and hashed. What
// the objects mean (pointers, snapshots) is the caller's to check.
import MLVSystem

/// One finding: `what` is "pack" or "index"; `path` the file; `problem` what is wrong.
public struct StoreProblem: Sendable, Equatable {
    /// The kinds of file a problem is about.
    public static let pack = "pack", index = "index"

    public var what: String
    public var path: String
    public var problem: String

    public init(what: String, path: String, problem: String) {
        self.what = what
        self.path = path
        self.problem = problem
    }
}

public struct StoreCheck: Sendable {
    /// Pack files found, and the objects they hold.
    public var packs = 0
    public var objects = 0
    public var problems: [StoreProblem] = []
}

extension Store {
    /// Reads every pack in full and checks every index against its name and its packs.
    /// Damage is reported, never repaired (`repairIndex` does that).
    public func verify() throws -> StoreCheck {
        var check = StoreCheck()
        // Indexes: each must match its name and decode.
        var indexed: [ObjectID: [PackedEntry]] = [:]
        for name in try indexFileNames() {
            let path = FS.join(indexDir, name)
            do {
                let bytes = try FS.readAll(path)
                guard Layout.indexFileName(bytes) == name else {
                    check.problems.append(StoreProblem(what: StoreProblem.index, path: path, problem: "content does not match its name"))
                    continue
                }
                let idx = try decodeIndex(bytes, path: path)
                for (_, n, e) in idx.entries { indexed[idx.packs[n], default: []].append(e) }
            } catch {
                check.problems.append(StoreProblem(what: StoreProblem.index, path: path, problem: "\(error)"))
            }
        }
        // Packs: every object verified; every indexed pack present. Deltas are decoded
        // through every pack file here, indexed or not: packs a killed fetch placed but did
        // not index yet hold each other's bases. In a pack no index lists (garbage until an
        // index names it) a base found nowhere is no problem: nothing reads that pack.
        var present = Set<ObjectID>()
        var files: [(path: String, id: ObjectID, handle: FileHandleFD)] = []
        for sub in try FS.list(packsDir) {
            for f in try FS.list(FS.join(packsDir, sub)) where Layout.isPackFileName(f) {
                let path = FS.join(packsDir, "\(sub)/\(f)")
                guard let id = Layout.packID(fileName: f) else { continue }
                present.insert(id)
                check.packs += 1
                do {
                    let h = try FileHandleFD.openRead(path)
                    guard try computePackID(h) == id else {
                        check.problems.append(StoreProblem(what: StoreProblem.pack, path: path, problem: "headers do not match the pack's name"))
                        continue
                    }
                    files.append((path, id, h))
                } catch {
                    check.problems.append(StoreProblem(what: StoreProblem.pack, path: path, problem: "\(error)"))
                }
            }
        }
        let scanned = files.map { try? scanPack($0.handle) }
        let overlay = PackOverlay(zip(files, scanned).compactMap { f, e in e.map { (f.handle, $0) } }, fallback: self)
        for ((path, id, h), entries) in zip(files, scanned) {
            do {
                let entries = try verifyPack(h, scanned: entries, bases: overlay, unresolved: indexed[id] == nil ? { _, _ in } : nil)
                check.objects += entries.count
                let at = Set(entries.map { "\($0.id.hex)@\($0.offset)" })
                for e in indexed[id] ?? [] where !at.contains("\(e.id.hex)@\(e.offset)") {
                    check.problems.append(StoreProblem(what: StoreProblem.index, path: path, problem: "indexed object \(e.id.short) is not at offset \(e.offset)"))
                }
            } catch {
                check.problems.append(StoreProblem(what: StoreProblem.pack, path: path, problem: "\(error)"))
            }
        }
        for p in indexed.keys where !present.contains(p) {
            check.problems.append(StoreProblem(what: StoreProblem.pack, path: packPath(p), problem: "indexed but missing"))
        }
        return check
    }
}
