import MLVSystem
import Foundation
import MLVStore
import MLVTestSupport
import Testing

/// Two mlv processes at once on one repository or one remote: the store stays consistent;
/// the second waits for the repository lock (or, for a checkout that would overwrite data the
/// other is committing, refuses) — nothing is lost either way.
@Suite struct ConcurrencyTests {
    /// Starts mlv without waiting; `finish` collects exit status and stderr.
    struct Running {
        let process: Process
        let errPath: String

        func finish() -> (Int32, String) {
            process.waitUntilExit()
            return (process.terminationStatus, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        }
    }

    func start(_ s: Sandbox, _ args: String..., cwd: String? = nil) throws -> Running {
        let errPath = s.root + "/err-" + UUID().uuidString
        return Running(process: try s.spawn(args, cwd: cwd, stderrTo: errPath), errPath: errPath)
    }

    func fsckClean(_ s: Sandbox, cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.mlv("fsck", cwd: cwd)
        #expect(r.status == 0 && r.stdout.contains("no problems"), "\(r.stdout)", sourceLocation: sourceLocation)
    }

    @Test func twoCommitsAtOnce() throws {
        let s = try Sandbox.committing("data/a.bin", noise(8 << 20, seed: 30))
        try s.write("data/a.bin", noise(8 << 20, seed: 31))
        let before = try s.head()
        let a = try start(s, "commit", "-m", "first")
        let b = try start(s, "commit", "-m", "second")
        let (sa, ea) = a.finish(), (sb, eb) = b.finish()
        // One commits; the other waited for the lock and then found nothing left to commit.
        #expect(Set([sa, sb]) == [0, 1], "exit \(sa) \(ea) / \(sb) \(eb)")
        #expect(try s.git("rev-list", "--count", "\(before)..HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(sameBytes(try s.shown("HEAD:data/a.bin"), noise(8 << 20, seed: 31)))
        try fsckClean(s)
    }

    @Test func commitDuringGC() throws {
        let s = try Sandbox.committing("data/a.bin", noise(4 << 20, seed: 32))
        // Garbage for gc to collect: a branch's commits, then the branch deleted.
        try s.git("checkout", "-q", "-b", "scratch")
        for i in 0..<4 {
            try s.write("data/a.bin", noise(4 << 20, seed: UInt64(40 + i)))
            try s.mlvOK("commit", "-m", "scratch \(i)")
        }
        try s.git("checkout", "-q", "main")
        try s.mlvOK("checkout")
        try s.git("branch", "-q", "-D", "scratch")
        try s.git("reflog", "expire", "--expire=now", "--all")
        try s.write("data/a.bin", noise(4 << 20, seed: 33))
        let gc = try start(s, "gc")
        let commit = try start(s, "commit", "-m", "during gc")
        let (sg, eg) = gc.finish(), (sc, ec) = commit.finish()
        #expect(sg == 0 && sc == 0, "gc \(sg) \(eg) / commit \(sc) \(ec)")
        #expect(sameBytes(try s.shown("HEAD:data/a.bin"), noise(4 << 20, seed: 33)))
        #expect(sameBytes(try s.shown("HEAD~1:data/a.bin"), noise(4 << 20, seed: 32)))
        try s.mlvOK("gc")
        try fsckClean(s)
    }

    @Test func checkoutDuringCommit() throws {
        let s = try Sandbox.committing("data/a.bin", noise(8 << 20, seed: 34))
        try s.git("tag", "v1")
        try s.write("data/a.bin", noise(8 << 20, seed: 35))
        try s.mlvOK("commit", "-m", "v2")
        let edited = noise(8 << 20, seed: 36)
        try s.write("data/a.bin", edited)
        let commit = try start(s, "commit", "-m", "v3")
        let checkout = try start(s, "checkout", "v1")
        let (sc, ec) = commit.finish(), (so, eo) = checkout.finish()
        #expect(sc == 0, "commit: \(ec)")
        // Either the checkout ran after the commit (the edit is safe in v3, v1 is checked out)
        // or before it, and refused to overwrite the edit (exit 3), which v3 then holds.
        #expect(so == 0 || so == 3, "checkout \(so): \(eo)")
        #expect(sameBytes(try s.shown("main:data/a.bin"), edited))
        let now = s.read("data/a.bin")
        #expect(sameBytes(now, so == 0 ? noise(8 << 20, seed: 34) : edited))
        try fsckClean(s)
    }

    @Test func twoPushesToOneRemote() throws {
        let s = try Sandbox.committing("data/a.bin", noise(6 << 20, seed: 37))
        try s.mlvOK("remote", "add", "origin", s.root + "/remote", "--create")
        try s.git("commit", "-q", "-m", "remote")
        try s.mlvOK("push")
        // A second clone with its own new data, pushing to the same remote at the same time.
        let other = s.root + "/other"
        try s.git("clone", "-q", s.repo, other, cwd: s.root)
        try s.write("models/m.bin", noise(6 << 20, seed: 38), in: other)
        try s.mlvOK("track", "models", cwd: other)
        try s.mlvOK("commit", "-m", "model", cwd: other)
        try s.write("data/a.bin", noise(6 << 20, seed: 39))
        try s.mlvOK("commit", "-m", "v2")
        let a = try start(s, "push", "--all-commits")
        let b = try start(s, "push", "--all-commits", cwd: other)
        let (sa, ea) = a.finish(), (sb, eb) = b.finish()
        #expect(sa == 0 && sb == 0, "\(ea) / \(eb)")
        let r = try s.mlv("fsck", "--remote", "origin")
        #expect(r.status == 0 && r.stdout.contains("no problems"), "\(r.stdout)")
        // Both histories come back from the remote, byte for byte.
        let third = s.root + "/third"
        try s.git("clone", "-q", other, third, cwd: s.root)
        try s.mlvOK("pull", cwd: third)
        #expect(sameBytes(s.read("models/m.bin", in: third), noise(6 << 20, seed: 38)))
        try s.git("fetch", "-q", s.repo, "main:mine", cwd: third)
        try s.mlvOK("fetch", "--rev", "mine", cwd: third)
        #expect(sameBytes(try s.shown("mine:data/a.bin", cwd: third), noise(6 << 20, seed: 39)))
    }
}

/// Hostile commits: a symlink committed to git where mlv will write data. Data is never
/// written through a link, so nothing outside the repository changes.
@Suite struct SymlinkEscapeTests {
    func hostileClone(_ build: (Sandbox, String) throws -> Void) throws -> (Sandbox, String, String) {
        let s = try Sandbox()
        let outside = s.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try build(s, outside)
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try FileManager.default.copyItem(atPath: s.repo + "/.mlv/store", toPath: clone + "/.mlv/store")
        return (s, clone, outside)
    }

    func outsideUntouched(_ outside: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let names = (try? FileManager.default.subpathsOfDirectory(atPath: outside)) ?? []
        #expect(names == ["keep.txt"], "written outside the repository: \(names)", sourceLocation: sourceLocation)
        #expect(FileManager.default.contents(atPath: outside + "/keep.txt") == Data("mine\n".utf8), sourceLocation: sourceLocation)
    }

    @Test func aFileTargetThatIsACommittedSymlink() throws {
        let (s, clone, outside) = try hostileClone { s, outside in
            try "mine\n".write(toFile: outside + "/keep.txt", atomically: true, encoding: .utf8)
            try s.write("real.bin", noise(200_000, seed: 60))
            try s.mlvOK("track", "real.bin")
            try s.mlvOK("commit", "-m", "real")
            // evil -> outside/keep.txt, with a pointer claiming evil is a tracked file.
            try FileManager.default.createSymbolicLink(atPath: s.repo + "/evil", withDestinationPath: outside + "/keep.txt")
            try FileManager.default.copyItem(atPath: s.repo + "/real.bin.mlv", toPath: s.repo + "/evil.mlv")
            try s.git("add", "-f", "evil", "evil.mlv")
            try s.git("commit", "-q", "-m", "hostile")
        }
        _ = try s.mlv("checkout", cwd: clone)
        _ = try s.mlv("checkout", "--force", cwd: clone)
        outsideUntouched(outside)
    }

    @Test func aFolderInsideATargetThatIsACommittedSymlink() throws {
        let (s, clone, outside) = try hostileClone { s, outside in
            try "mine\n".write(toFile: outside + "/keep.txt", atomically: true, encoding: .utf8)
            try s.write("data/sub/x.bin", noise(100_000, seed: 61))
            try s.mlvOK("track", "data")
            try s.mlvOK("commit", "-m", "data")
            // data/sub replaced in git by a link to the outside folder.
            try FileManager.default.removeItem(atPath: s.repo + "/data/sub")
            try FileManager.default.createSymbolicLink(atPath: s.repo + "/data/sub", withDestinationPath: outside)
            try s.git("add", "-f", "data/sub")
            try s.git("commit", "-q", "-m", "hostile", "--", "data/sub")
        }
        try FileManager.default.removeItem(atPath: clone + "/data/sub")
        try FileManager.default.createSymbolicLink(atPath: clone + "/data/sub", withDestinationPath: outside)
        _ = try s.mlv("checkout", cwd: clone)
        _ = try s.mlv("checkout", "--force", cwd: clone)
        _ = try s.mlv("checkout", "--", "data/sub/x.bin", cwd: clone)
        outsideUntouched(outside)
    }
}

/// A remote whose index files are hostile: named after their own hash but holding garbage,
/// or truncated: fetch fails with one line and nothing reaches the store or the working
/// tree; or lying about offsets: harmless, the data that arrives is verified.
@Suite struct HostileRemoteIndexTests {
    @Test func garbageAndLyingIndexesAreRefused() throws {
        let s = try repositoryWithRemote([("data/a.bin", noise(300_000, seed: 62))])
        try s.mlvOK("push")
        let indexDir = s.root + "/remote/index"
        let real = try FileManager.default.contentsOfDirectory(atPath: indexDir)[0]
        var bytes = [UInt8](FileManager.default.contents(atPath: indexDir + "/" + real)!)
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        func refused(_ content: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
            for n in try FileManager.default.contentsOfDirectory(atPath: indexDir) { try FileManager.default.removeItem(atPath: indexDir + "/" + n) }
            let name = ObjectID.hash(content).hex + ".idx"      // a valid name: the content hashes to it
            try Data(content).write(to: URL(fileURLWithPath: indexDir + "/" + name))
            try? FileManager.default.removeItem(atPath: clone + "/.mlv/cache/remote-index")
            let r = try s.mlv("pull", cwd: clone)
            #expect(r.status != 0 && r.stderr.split(separator: "\n").count == 1, "\(r.status) \(r.stderr)", sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: clone + "/data/a.bin"), sourceLocation: sourceLocation)
            #expect(packCount(clone) == 0, sourceLocation: sourceLocation)
        }
        try refused(Array("not an index at all".utf8))
        try refused(Array(bytes.prefix(bytes.count / 2)))                   // truncated
        // An index that lies about where an object sits in its pack: fetch re-indexes every
        // pack it downloads from the pack's own verified contents, so the lie is harmless.
        bytes[bytes.count - 40] ^= 0xff
        for n in try FileManager.default.contentsOfDirectory(atPath: indexDir) { try FileManager.default.removeItem(atPath: indexDir + "/" + n) }
        try Data(bytes).write(to: URL(fileURLWithPath: indexDir + "/" + ObjectID.hash(bytes).hex + ".idx"))
        let r = try s.mlv("pull", cwd: clone)
        if r.status == 0 {
            #expect(sameBytes(s.read("data/a.bin", in: clone), noise(300_000, seed: 62)))
        } else {
            #expect(r.stderr.split(separator: "\n").count == 1 && !FileManager.default.fileExists(atPath: clone + "/data/a.bin"), "\(r.stderr)")
        }
    }
}
