import MLVSystem
import Foundation
import Glibc
import Testing
@testable import MLVStore

/// The store's maintenance: verify finds damage, repair rebuilds indexes, prune keeps
/// exactly the live set, and the walk finds every object below a snapshot.
@Suite struct MaintenanceTests {
    /// One pack per element of `sessions`, each of that many objects of ~2 KB; returns the
    /// store and each object's content, in the order written.
    static func store(_ sessions: [Int]) throws -> (Store, [(ObjectID, [UInt8])]) {
        let store = try Store(root: tempDir("h-store-maint"))
        var out: [(ObjectID, [UInt8])] = []
        for (s, n) in sessions.enumerated() {
            let w = try store.writer(compressionLevel: 1)
            for i in 0..<n {
                var g = SystemRandomNumberGenerator()
                let bytes = Array("\(s)/\(i)".utf8) + (0..<2000).map { _ in UInt8.random(in: 0...255, using: &g) }
                out.append((try w.addObject(bytes, type: .chunk), bytes))
            }
            try w.commit()
        }
        return (store, out)
    }

    static func onlyPack(_ store: Store) throws -> String {
        try store.packPath(#require(try store.knownPacks().first))
    }

    @Test func verifyIsCleanOnAGoodStore() throws {
        let (store, objects) = try Self.store([4, 3])
        let check = try store.verify()
        #expect(check.problems.isEmpty && check.packs == 2 && check.objects == objects.count)
    }

    @Test func verifyFindsACorruptedByte() throws {
        let (store, _) = try Self.store([3])
        let path = try Self.onlyPack(store)
        var bytes = try FS.readAll(path)
        bytes[PackFormat.packHeaderSize + PackFormat.entryHeaderSize + 100] ^= 0x01   // data of the first object
        writeFile(path, bytes)
        let problems = try Store(root: store.root).verify().problems
        #expect(problems.count == 1)
        #expect(problems.first?.what == "pack" && problems.first?.path == path)
        #expect(problems.first?.problem.contains("SHA-256") == true)
    }

    @Test func verifyFindsAMissingPack() throws {
        let (store, _) = try Self.store([3])
        let path = try Self.onlyPack(store)
        FS.remove(path)
        let check = try Store(root: store.root).verify()
        #expect(check.problems == [StoreProblem(what: "pack", path: path, problem: "indexed but missing")])
        #expect(check.packs == 0)
    }

    @Test func repairRebuildsADeletedIndex() throws {
        let (store, objects) = try Self.store([3, 2])
        for n in try store.indexFileNames() { FS.remove(FS.join(store.indexDir, n)) }
        #expect(try !Store(root: store.root).contains(objects[0].0))
        let r = try Store(root: store.root).repairIndex()
        #expect(r.packsIndexed == 2 && r.objects == 5 && r.indexesReplaced == 0 && r.quarantined.isEmpty)
        let reopened = try Store(root: store.root)
        #expect(try reopened.indexFileNames().count == 1)
        for (id, bytes) in objects { #expect(try reopened.readObject(id, type: .chunk) == bytes) }
    }

    @Test func repairQuarantinesADamagedPack() throws {
        let (store, objects) = try Self.store([2])
        let path = try Self.onlyPack(store)
        var bytes = try FS.readAll(path)
        bytes[bytes.count - 1] ^= 0xFF
        writeFile(path, bytes)
        let r = try Store(root: store.root).repairIndex()
        #expect(r.quarantined == [path] && r.packsIndexed == 0)
        #expect(FS.exists(FS.join(store.lostDir, FS.basename(path))) && !FS.exists(path))
        #expect(try !Store(root: store.root).contains(objects[0].0))
    }

    @Test func pruneKeepsExactlyTheLiveSet() throws {
        // Pack 1: 8 objects, 2 live (repacked); pack 2: 3 objects, none live (deleted);
        // pack 3: 2 objects, both live (kept).
        let (store, objects) = try Self.store([8, 3, 2])
        let live = Set([objects[1].0, objects[6].0, objects[11].0, objects[12].0])
        let plan = try store.planPrune(live: live)
        #expect(plan.delete.count == 1 && plan.repack.count == 1 && plan.keep.count == 1)
        try store.prune(plan, compressionLevel: 1)
        let reopened = try Store(root: store.root)
        for (id, bytes) in objects {
            if live.contains(id) { #expect(try reopened.readObject(id, type: .chunk) == bytes) }
            else { #expect(try !reopened.contains(id)) }
        }
        #expect(try reopened.indexFileNames().count == 1)
        #expect(try reopened.knownPacks().count == 2)
        #expect(try reopened.verify().problems.isEmpty)
        #expect(try reopened.verify().objects == live.count)
    }

    @Test func walkFindsEverythingBelowASnapshot() throws {
        let store = try Store(root: tempDir("h-store-walk"))
        let w = try store.writer(compressionLevel: 1)
        let a = try w.addObject(Array("chunk a".utf8), type: .chunk)
        let absent = ObjectID.hash(Array("never stored".utf8))
        let file = try w.addObject(FileManifest(size: 7, chunks: [ManifestChunk(id: a, length: 7)]).encoded(), type: .file)
        let inner = try w.addObject(Tree(entries: [TreeEntry(name: "f", kind: .file, size: 7, files: 1, id: file)]).encoded(), type: .tree)
        let root = try w.addObject(Tree(entries: [
            TreeEntry(name: "d", kind: .directory, size: 7, files: 1, id: inner),
            TreeEntry(name: "g", kind: .file, size: 1, files: 1, id: absent),
        ]).encoded(), type: .tree)
        try w.commit()
        var missing: [ObjectID] = []
        let all = try store.walk(from: [root]) { missing.append($0) }
        #expect(all == [root, inner, file, a, absent])
        #expect(missing == [absent])
        #expect(try store.walk(from: [root], treesOnly: true) == [root, inner])
        #expect(try store.walk(from: [root], known: [inner]) { _ in } == [root, inner, absent])
    }

    @Test func rawWhenZstdSavesTooLittle() {
        #expect(Encoding.choose(rawLength: 3200, compressedLength: 3100) == .raw)
        #expect(Encoding.choose(rawLength: 3200, compressedLength: 3099) == .zstd)
    }

    /// What a killed command left in tmp/ goes at the next locked command: a diff's spill
    /// folder once its process is gone (a running diff takes no lock, so its own is kept), a
    /// partial file whose process is gone or that is an hour old; names mlv does not give are
    /// never touched.
    @Test func staleTemporariesAreRemovedAndLiveOnesKept() throws {
        let (store, _) = try Self.store([1])
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let deadDiff = FS.join(store.tmpDir, "diff-\(gone.processIdentifier)-1")
        let liveDiff = store.scratchPath(.diff)
        for d in [deadDiff, liveDiff] {
            try FS.makeDirectories(d + "/part")
            try FS.atomicWrite([1, 2, 3], to: d + "/part/a0")
        }
        let oldPartial = store.scratchPath(.fetch, suffix: ".pack")
        let newPartial = store.scratchPath(.pack)
        let killedPartial = FS.join(store.tmpDir, "pack-\(gone.processIdentifier)-7")   // young, its process gone
        let foreign = FS.join(store.tmpDir, "notes.txt")
        for f in [oldPartial, newPartial, killedPartial, foreign] { try FS.atomicWrite([0], to: f) }
        var past = [timespec(tv_sec: time(nil) - 7200, tv_nsec: 0), timespec(tv_sec: time(nil) - 7200, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, oldPartial, &past, 0) == 0)
        #expect(utimensat(AT_FDCWD, foreign, &past, 0) == 0)

        store.removeStaleTemporaries()
        #expect(!FS.exists(deadDiff) && FS.exists(liveDiff + "/part/a0"))
        #expect(!FS.exists(oldPartial) && FS.exists(newPartial) && FS.exists(foreign))
        #expect(!FS.exists(killedPartial))
    }
}
