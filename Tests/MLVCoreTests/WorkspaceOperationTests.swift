// Commit, Status, Checkout and log called directly on a Workspace in a temporary git
// repository with a real store: what they record and report, checked against the bytes the
// test wrote (no built binary).
import Testing
import Glibc
@testable import MLVCore
@testable import MLVStore
import MLVGit
import MLVSystem
import MLVTestSupport

/// A fresh workspace (`mlv init` in a new git repository) with a repository-local author.
private func makeWorkspace(_ name: String) throws -> Workspace {
    let dir = scratchDirectory("core-\(name)")
    let (ws, _, _) = try Workspace.initialize(cwd: dir, createGit: true)
    try ws.git.setConfig("user.name", "Unit Test")
    try ws.git.setConfig("user.email", "unit@example.com")
    return ws
}

private func write(_ ws: Workspace, _ rel: String, _ text: String) throws {
    try FS.atomicWrite(Array(text.utf8), to: ws.absolute(rel))
}

private func commit(_ ws: Workspace, _ message: String) throws -> CommitResult {
    try Commit(ws).run(message: message, paths: [], noGit: false, waiting: { _ in })
}

private func state(_ ws: Workspace, _ path: String) throws -> TargetStatus.State? {
    try Status(ws).run().targets.first { $0.path == path }?.state
}

@Suite struct WorkspaceOperationTests {
    @Test func commitStoresTheDataWritesThePointerAndCommitsIt() throws {
        let ws = try makeWorkspace("commit")
        let text = "id,v\n1,a\n2,b\n"
        try write(ws, "data.csv", text)
        let tracked = try Track(ws).track(["data.csv"], kind: nil)
        #expect(tracked.map(\.path) == ["data.csv"] && tracked.first?.storage == .mlv)
        let r = try commit(ws, "first")
        let t = try #require(r.targets.first)
        #expect(r.targets.count == 1 && t.path == "data.csv" && t.change == .added)
        #expect(t.size == UInt64(text.utf8.count) && t.files == 1)
        // The pointer on disk names the snapshot, and git's new HEAD holds that pointer.
        let pointer = try Pointer(parsing: FS.readAll(ws.absolute("data.csv.mlv")), path: "data.csv.mlv")
        #expect(pointer.snapshot?.hex == t.snapshot && pointer.size == UInt64(text.utf8.count))
        let head = try #require(try ws.git.head())
        #expect(r.commit == head.hex)
        #expect(try ws.git.blob(at: "data.csv.mlv", in: head) == Array(pointer.encoded().utf8))
        #expect(try ws.git.commitInfo(head).summary == "first")
        // The store gives back exactly the bytes written.
        let m = try ws.store().manifest(try #require(pointer.snapshot))
        #expect(m.size == UInt64(text.utf8.count))
        #expect(try ws.storedEntry(rev: "HEAD", path: "data.csv").id == pointer.snapshot)

        // Nothing changed since: nothing to commit, and HEAD stays.
        #expect(throws: MLVError.nothingToCommit(missing: [])) { _ = try commit(ws, "again") }
        #expect(try ws.git.head() == head)
    }

    @Test func statusFollowsEditsAndDeletions() throws {
        let ws = try makeWorkspace("status")
        try write(ws, "a.txt", "0123456789\n")
        _ = try Track(ws).track(["a.txt"], kind: nil)
        #expect(try state(ws, "a.txt") == .added)
        _ = try commit(ws, "a")
        let clean = try Status(ws).run()
        #expect(clean.isClean && clean.targets.map(\.state) == [.clean] && clean.targets.first?.pointer == .committed)

        try write(ws, "a.txt", "0123456789 and more\n")
        #expect(try state(ws, "a.txt") == .modified)
        #expect(try !Status(ws).run().isClean)

        FS.remove(ws.absolute("a.txt"))
        #expect(try state(ws, "a.txt") == .deleted)
    }

    @Test func anEditKeepingSizeAndModificationTimeIsStillFound() throws {
        let ws = try makeWorkspace("racy")
        let path = "b.txt"
        try write(ws, path, "aaaaaaaaaa\n")
        _ = try Track(ws).track([path], kind: nil)
        _ = try commit(ws, "b")
        #expect(try state(ws, path) == .clean)   // the stat cache now vouches for the file
        var before = stat()
        #expect(stat(ws.absolute(path), &before) == 0)
        // Same size, in place (same inode), then the old modification time put back: only
        // ctime, which no one can set, still tells.
        let fd = open(ws.absolute(path), O_WRONLY)
        #expect(fd >= 0)
        let bytes = Array("bbbbbbbbbb\n".utf8)
        #expect(bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } == bytes.count)
        close(fd)
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, ws.absolute(path), &times, 0) == 0)
        var after = stat()
        #expect(stat(ws.absolute(path), &after) == 0)
        #expect(after.st_size == before.st_size && after.st_mtim.tv_sec == before.st_mtim.tv_sec
                && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_ino == before.st_ino)
        #expect(try state(ws, path) == .modified)
    }

    @Test func checkoutOfAnEarlierCommitBringsItsDataBackAndRefusesToOverwriteWork() throws {
        let ws = try makeWorkspace("checkout")
        try write(ws, "m.bin", "version one\n")
        _ = try Track(ws).track(["m.bin"], kind: .model)
        let first = try #require(try commit(ws, "one").commit)
        try write(ws, "m.bin", "version two, longer\n")
        let branch = try #require(try commit(ws, "two").branch)

        let back = try Checkout(ws).run(rev: first, paths: [], force: false, snapshot: nil, waiting: { _ in })
        #expect(back.targets.map(\.action) == [.updated] && back.commit == first)
        #expect(try FS.readAll(ws.absolute("m.bin")) == Array("version one\n".utf8))
        #expect(try ws.git.head()?.hex == first)

        // Uncommitted work in the way: refused, nothing moves; with --force it is saved first.
        try write(ws, "m.bin", "my edit\n")
        #expect(throws: MLVError.dataModified(["m.bin"])) {
            _ = try Checkout(ws).run(rev: branch, paths: [], force: false, snapshot: nil, waiting: { _ in })
        }
        #expect(try FS.readAll(ws.absolute("m.bin")) == Array("my edit\n".utf8))
        let forced = try Checkout(ws).run(rev: branch, paths: [], force: true, snapshot: nil, waiting: { _ in })
        #expect(forced.saved.map(\.path) == ["m.bin"])
        #expect(try FS.readAll(ws.absolute("m.bin")) == Array("version two, longer\n".utf8))
        // And the saved version comes back by its id.
        let restored = try Checkout(ws).run(rev: nil, paths: ["m.bin"], force: true,
                                             snapshot: try #require(forced.saved.first).snapshot, waiting: { _ in })
        #expect(restored.targets.map(\.action) == [.restored])
        #expect(try FS.readAll(ws.absolute("m.bin")) == Array("my edit\n".utf8))
    }

    @Test func logSaysRemovedForAnUntrackedTarget() throws {
        let ws = try makeWorkspace("log")
        try write(ws, "gone.csv", "x\n1\n")
        _ = try Track(ws).track(["gone.csv"], kind: nil)
        _ = try commit(ws, "add")
        #expect(try Track(ws).untrack(["gone.csv"]) == ["gone.csv"])
        // Untracked, not yet committed: status says the pointer is to be removed.
        #expect(try Status(ws).run().targets.map(\.pointer) == [.removed])
        _ = try commit(ws, "drop")
        var skipped: [String] = []
        let log = try History(ws).log(path: nil, limit: nil, skipped: &skipped)
        #expect(log.map(\.message) == ["drop", "add"])
        #expect(log.map { $0.changes.map(\.change) } == [[.removed], [.added]])
        #expect(skipped.isEmpty)
    }
}
