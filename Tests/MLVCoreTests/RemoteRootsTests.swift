import Foundation
import MLVSystem
import MLVTestSupport
import Testing
import MLVRemote
@testable import MLVCore
@testable import MLVStore

/// The core's half of push, fetch and gc, against the in-memory transport and a temporary
/// git repository: which snapshots count (the roots), and that what they name travels and
/// survives.
@Suite struct RemoteRootsTests {
    /// A new repository with mlv initialised and a committer identity in its own config.
    static func repository() throws -> (Workspace, String) {
        let dir = scratchDirectory("h-store-core")
        let (ws, _, _) = try Workspace.initialize(cwd: dir, createGit: true)
        for (k, v) in [("user.name", "Test"), ("user.email", "test@example.com")] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
            p.arguments = ["-C", dir, "config", k, v]
            try p.run()
            p.waitUntilExit()
        }
        return (ws, dir)
    }

    /// Writes `text` to `name`, tracks it and commits; returns the snapshot the pointer names.
    static func commit(_ ws: Workspace, _ dir: String, _ name: String, _ text: String) throws -> ObjectID {
        try FS.atomicWrite(Array(text.utf8), to: FS.join(dir, name))
        _ = try MLVCore.Track(ws).track([name], kind: nil)
        _ = try MLVCore.Commit(ws).run(message: "add \(name)", paths: [], noGit: false, waiting: { _ in })
        return try #require(try ws.targets().first { $0.0 == name }?.1.snapshot)
    }

    @Test func pushThenFetchThroughTheCore() throws {
        let (ws, dir) = try Self.repository()
        let snapshot = try Self.commit(ws, dir, "a.csv", "x,y\n1,2\n3,4\n")
        let memory = MemoryTransport()
        let remote = RemoteStore(name: "mem", transport: memory)
        let pushed = try MLVCore.Push(ws).run(to: remote, revs: [], allCommits: false)
        #expect(pushed.packs == 1 && pushed.objects == 2)   // the file's manifest and its one chunk
        #expect(try memory.indexFiles().count == 1)
        let again = try MLVCore.Push(ws).run(to: remote, revs: [], allCommits: false)
        #expect(again.packs == 0 && again.bytes == 0 && again.alreadyThere == 1)

        // A store that lost everything gets it back from the remote, verified.
        let store = try ws.store()
        for d in [store.packsDir, store.indexDir] {
            for n in try FS.list(d) { _ = try? FileManager.default.removeItem(atPath: FS.join(d, n)) }
        }
        let clone = try Workspace.open(cwd: dir)
        #expect(try !clone.store().contains(snapshot))
        let fetched = try MLVCore.Fetch(clone).run(Roots(clone).pointed(revs: [], allCommits: false), from: remote)
        #expect(fetched.packs == 1 && fetched.objects == 2)
        #expect(try clone.store().contains(snapshot))
        #expect(try MLVCore.Fsck(clone).run().problems.isEmpty)
    }

    @Test func gcKeepsEveryCommittedSnapshotAndDropsTheRest() throws {
        let (ws, dir) = try Self.repository()
        let v1 = try Self.commit(ws, dir, "a.csv", "x\n1\n")
        let v2 = try Self.commit(ws, dir, "a.csv", "x\n2\n")
        var skipped: [String] = []
        let (roots, logs) = try Roots(ws).live(skipped: &skipped)
        #expect(roots.isSuperset(of: [v1, v2]) && logs.isEmpty && skipped.isEmpty)
        // An object no pointer names, in a pack of its own.
        let w = try ws.store().writer(compressionLevel: 1)
        let orphan = try w.addObject(Array("nobody points here".utf8), type: .chunk)
        try w.commit()
        let r = try MLVCore.GC(ws).run(dryRun: false)
        #expect(r.packsDeleted == 1 && r.packsRepacked == 0)
        let after = try Workspace.open(cwd: dir).store()
        #expect(try after.contains(v1) && after.contains(v2) && !after.contains(orphan))
    }

    /// fsck of the core finds what is wrong, not only nothing: a pointer whose data the store
    /// lost, and a pack with one flipped byte.
    @Test func fsckNamesALostSnapshotAndADamagedPack() throws {
        let (ws, dir) = try Self.repository()
        _ = try Self.commit(ws, dir, "a.csv", "x,y\n1,2\n")
        #expect(try MLVCore.Fsck(ws).run().problems.isEmpty)
        let store = try ws.store()
        let packFiles = try FS.list(store.packsDir).flatMap { sub in try FS.list(FS.join(store.packsDir, sub)).map { FS.join(store.packsDir, sub + "/" + $0) } }
        #expect(packFiles.count == 1)

        // One flipped byte in the middle of the pack: the pack is reported, by its path.
        let pack = try #require(packFiles.first)
        var bytes = try FS.readAll(pack)
        bytes[bytes.count / 2] ^= 0xFF
        try FS.atomicWrite(bytes, to: pack)
        let damaged = try MLVCore.Fsck(Workspace.open(cwd: dir)).run().problems
        #expect(damaged.contains { $0.path.hasSuffix(FS.basename(pack)) }, "\(damaged)")

        // The pack and index gone: the committed pointer's data is reported missing.
        for d in [store.packsDir, store.indexDir] { try FS.removeTree(d); try FS.makeDirectories(d) }
        let lost = try MLVCore.Fsck(Workspace.open(cwd: dir)).run().problems
        #expect(lost.contains { $0.path.contains("a.csv") }, "\(lost)")
    }
}
