// MLVGit against a real repository in a temporary folder, through the library alone (no `git`
// binary, no mlv): commit and read back, history and changed paths, status, checkout of a
// tree (mlv's own files written atomically, HEAD detached or on a branch), export, and how
// failures are classified (input or system).
import Foundation
import Glibc
import MLVSystem
import Testing
@testable import MLVGit

@Suite struct GitRepositoryTests {
    let signature = GitSignature(name: "Test Author", email: "author@example.com", time: 1_700_000_000, offset: 60)

    /// A new repository in its own folder under /tmp, removed by the caller.
    func makeRepository(_ name: String) throws -> (GitRepository, String) {
        let dir = "/tmp/h-diffgit-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (try GitRepository.create(at: dir), dir)
    }

    func write(_ dir: String, _ path: String, _ text: String) throws {
        let full = dir + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ dir: String, _ path: String) -> String? {
        try? String(contentsOfFile: dir + "/" + path, encoding: .utf8)
    }

    /// Writes `files`, stages them (and removes `remove`), and commits.
    func commit(_ repo: GitRepository, _ dir: String, _ files: [String: String], remove: [String] = [], _ message: String) throws -> GitOID {
        for (p, t) in files { try write(dir, p, t) }
        for p in remove { try FileManager.default.removeItem(atPath: dir + "/" + p) }
        try repo.stage(add: files.keys.sorted(), remove: remove)
        return try repo.commit(message: message, signature: signature)
    }

    @Test func aCommitIsReadBack() throws {
        let (repo, dir) = try makeRepository("commit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try repo.head() == nil)
        let id = try commit(repo, dir, ["a.txt": "one\n", "sub/p.mlv": "pointer\n"], "first\n\nbody")
        #expect(try repo.head() == id)
        #expect(try repo.resolve("HEAD") == id)
        let info = try repo.commitInfo(id)
        #expect(info.summary == "first")
        #expect(info.author == signature)
        #expect(info.parents.isEmpty)
        #expect(try repo.blob(at: "a.txt", in: id) == Array("one\n".utf8))
        #expect(try repo.blob(at: "missing.txt", in: id) == nil)
        #expect(try repo.hasFile("sub/p.mlv", in: id))
        #expect(try !repo.hasFile("sub", in: id))
        #expect(try repo.paths(in: id, endingWith: ".mlv") == ["sub/p.mlv"])
        #expect(try repo.indexMatchesHead())
        #expect(try repo.isInIndex("a.txt"))
        #expect(try repo.indexPaths(under: "sub") == ["sub/p.mlv"])
        #expect(repo.currentBranch() != nil)
    }

    @Test func historyChangedPathsAndStatus() throws {
        let (repo, dir) = try makeRepository("history")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c1 = try commit(repo, dir, ["a.txt": "one\n", "b.txt": "same\n"], "one")
        let c2 = try commit(repo, dir, ["a.txt": "two\n"], "two")
        #expect(try repo.history(from: c2) == [c2, c1])
        #expect(try repo.history(from: c2, limit: 1) == [c2])
        #expect(try repo.commitInfo(c2).parents == [c1])
        #expect(try repo.changedPaths(from: c1, to: c2) == ["a.txt"])
        #expect(try repo.changedPaths(from: nil, to: c1) == ["a.txt", "b.txt"])
        #expect(try repo.changes().isEmpty)
        try write(dir, "b.txt", "edited\n")
        #expect(try repo.changes() == [GitChange(path: "b.txt", staged: false)])
        // b.txt is the same in both commits: a checkout of c1 would not touch it, so it is no obstacle.
        #expect(try repo.changes(against: c1).isEmpty)
    }

    @Test func checkoutWritesTheTreeAndMovesHead() throws {
        let (repo, dir) = try makeRepository("checkout")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c1 = try commit(repo, dir, ["a.txt": "one\n", "d.mlv": "pointer one\n"], "one")
        let branch = try #require(repo.currentBranch())
        let c2 = try commit(repo, dir, ["a.txt": "two\n", "d.mlv": "pointer two\n", "new.txt": "new\n"], "two")
        var written: [String] = []
        try repo.checkout(c1, branch: nil, force: false) { path in
            written.append(path)
            return path.hasSuffix(".mlv")
        }
        #expect(read(dir, "a.txt") == "one\n")
        #expect(read(dir, "d.mlv") == "pointer one\n")
        #expect(read(dir, "new.txt") == nil)
        #expect(Set(written) == ["a.txt", "d.mlv", "new.txt"])
        #expect(try repo.head() == c1)
        #expect(repo.currentBranch() == nil)
        #expect(try repo.changes().isEmpty, "the index follows the files, mlv's own included")
        try repo.checkout(c2, branch: branch, force: false)
        #expect(repo.currentBranch() == branch)
        #expect(read(dir, "new.txt") == "new\n")
        #expect(read(dir, "d.mlv") == "pointer two\n")
    }

    @Test func exportLeavesTheWorkingTreeAlone() throws {
        let (repo, dir) = try makeRepository("export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c1 = try commit(repo, dir, ["a.txt": "one\n"], "one")
        _ = try commit(repo, dir, ["a.txt": "two\n"], "two")
        let out = dir + "-out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        try repo.export(c1, to: out)
        #expect(read(out, "a.txt") == "one\n")
        #expect(read(dir, "a.txt") == "two\n")
    }

    @Test func userMistakesAreInputErrors() throws {
        let (repo, dir) = try makeRepository("errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let id = try commit(repo, dir, ["a.txt": "0123456789"], "one")
        let unknown = #expect(throws: GitError.self) { try repo.resolve("no-such-branch") }
        #expect(unknown?.isNotFound == true)
        #expect(unknown?.category == .input)
        // A blob past the caller's limit is refused before it is read: bad input, not the disk.
        let big = #expect(throws: GitError.self) { try repo.blob(at: "a.txt", in: id, limit: 4) }
        #expect(big?.isSystemFailure == false)
        let empty = dir + "-empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let none = #expect(throws: GitError.self) { try GitRepository(discover: empty) }
        #expect(none?.isNotFound == true)
    }

    @Test func operatingSystemFailuresAreSystemErrors() throws {
        let (repo, dir) = try makeRepository("oserror")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let id = try commit(repo, dir, ["a.txt": "one\n"], "one")
        // /proc takes no new folders, whoever asks (root included): mkdir fails in the kernel.
        let e = #expect(throws: GitError.self) { try repo.export(id, to: "/proc/h-diffgit-no/such/dir") }
        #expect(e?.isSystemFailure == true)
        #expect(e?.category == .system)
    }

    @Test func workingFilesThatNameNothingDoNotExist() throws {
        let (repo, dir) = try makeRepository("exists")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(dir, "a.txt", "one\n")
        #expect(try repo.workingFileExists("a.txt"))
        #expect(try !repo.workingFileExists("missing.txt"))
        #expect(try !repo.workingFileExists("a.txt/below"), "a path through a file (ENOTDIR) names nothing")
        #expect(symlink("loop", dir + "/loop") == 0)
        #expect(try !repo.workingFileExists("loop"), "a symlink loop (ELOOP) names nothing")
    }

    @Test func anUnrecordedCommitLeavesTheFixToTheCaller() {
        let e = GitError(operation: "commit", code: -1, message: "git did not record the commit", isSystemFailure: true, isUnrecordedCommit: true)
        #expect(e.category == .system)
        #expect(!e.description.contains("mlv"))
        #expect(e.description == "git did not record the commit")
    }
}
