import Foundation
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
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? s.repo)
        p.environment = s.environment
        let errPath = s.root + "/err-" + UUID().uuidString
        FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try p.run()
        return Running(process: p, errPath: errPath)
    }

    func fsckClean(_ s: Sandbox, cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try s.mlv("fsck", cwd: cwd)
        #expect(r.status == 0 && r.stdout.contains("no problems"), "\(r.stdout)", sourceLocation: sourceLocation)
    }

    @Test func twoCommitsAtOnce() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(8 << 20, seed: 30))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/a.bin", noise(8 << 20, seed: 31))
        let before = try s.head()
        let a = try start(s, "commit", "-m", "first")
        let b = try start(s, "commit", "-m", "second")
        let (sa, ea) = a.finish(), (sb, eb) = b.finish()
        // One commits; the other waited for the lock and then found nothing left to commit.
        #expect(Set([sa, sb]) == [0, 1], "exit \(sa) \(ea) / \(sb) \(eb)")
        #expect(try s.git("rev-list", "--count", "\(before)..HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(sameBytes(try s.mlvOK("show", "HEAD:data/a.bin").stdoutBytes.map { $0 }, noise(8 << 20, seed: 31)))
        try fsckClean(s)
    }

    @Test func commitDuringGC() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(4 << 20, seed: 32))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
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
        #expect(sameBytes(try s.mlvOK("show", "HEAD:data/a.bin").stdoutBytes.map { $0 }, noise(4 << 20, seed: 33)))
        #expect(sameBytes(try s.mlvOK("show", "HEAD~1:data/a.bin").stdoutBytes.map { $0 }, noise(4 << 20, seed: 32)))
        try s.mlvOK("gc")
        try fsckClean(s)
    }

    @Test func checkoutDuringCommit() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(8 << 20, seed: 34))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
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
        #expect(sameBytes(try s.mlvOK("show", "main:data/a.bin").stdoutBytes.map { $0 }, edited))
        let now = s.read("data/a.bin")
        #expect(sameBytes(now, so == 0 ? noise(8 << 20, seed: 34) : edited))
        try fsckClean(s)
    }

    @Test func twoPushesToOneRemote() throws {
        let s = try Sandbox()
        try s.write("data/a.bin", noise(6 << 20, seed: 37))
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        try s.mlvOK("remote", "add", "origin", s.root + "/remote")
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
        #expect(sameBytes(try s.mlvOK("show", "mine:data/a.bin", cwd: third).stdoutBytes.map { $0 }, noise(6 << 20, seed: 39)))
    }
}
