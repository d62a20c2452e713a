import Foundation
import MLVTestSupport
import Testing

/// Each bad input gives a one-line error naming the problem and the fix, a documented
/// non-zero exit status, and changes nothing.
@Suite struct BadInputTests {
    func committed() throws -> Sandbox {
        let s = try Sandbox()
        try s.write("data/d.csv", csv(rows: 1000))
        try s.mlvOK("track", "data/d.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/d.csv", csv(rows: 2000))
        try s.mlvOK("commit", "-m", "v2")
        return s
    }

    func expectOneLineError(_ r: RunResult, status: Int32, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("mlv: error: "), sourceLocation: sourceLocation)
        for m in mentions { #expect(r.stderr.contains(m), "\(m) not in \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test func notAGitRepository() throws {
        let dir = scratchDirectory("nogit")
        let s = try Sandbox(initMLV: false)
        expectOneLineError(try s.mlv("status", cwd: dir), status: 2, mentions: ["not inside a git repository", "git init"])
        expectOneLineError(try s.mlv("init", cwd: dir), status: 2, mentions: ["mlv init --git"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/.mlv"))
        try s.mlvOK("init", "--git", cwd: dir)
        #expect(FileManager.default.fileExists(atPath: dir + "/.git"))
        #expect(FileManager.default.fileExists(atPath: dir + "/mlv.yaml"))
        try s.mlvOK("init", cwd: dir)   // idempotent
    }

    @Test func aRepositoryWithoutMLV() throws {
        let s = try Sandbox(initMLV: false)
        expectOneLineError(try s.mlv("status"), status: 2, mentions: ["mlv init"])
    }

    @Test func pathsOutsideTheRepositoryOrInsideMetadata() throws {
        let s = try committed()
        try s.write("../outside.csv", "a\n")
        expectOneLineError(try s.mlv("track", "../outside.csv"), status: 2, mentions: ["outside the repository"])
        expectOneLineError(try s.mlv("track", ".git/config"), status: 2, mentions: [".git"])
        expectOneLineError(try s.mlv("track", ".mlv/store"), status: 2, mentions: [".mlv"])
        expectOneLineError(try s.mlv("track", "/etc/passwd"), status: 2, mentions: ["outside the repository"])
        #expect(!s.exists("passwd.mlv"))
    }

    @Test func anUnknownRevision() throws {
        let s = try committed()
        let before = s.snapshot()
        let head = try s.head()
        expectOneLineError(try s.mlv("checkout", "no-such-branch"), status: 2, mentions: ["unknown revision", "no-such-branch"])
        expectOneLineError(try s.mlv("show", "deadbeef:data/d.csv"), status: 2, mentions: ["unknown revision"])
        expectOneLineError(try s.mlv("ls", "HEAD~9"), status: 2, mentions: ["HEAD~9"])
        #expect(try s.head() == head)
        #expect(sameTree(s.snapshot(), before))
    }

    @Test func aPointerEditedIntoNonsense() throws {
        let s = try committed()
        try s.write("data/d.csv.mlv", "version: 1\nkind: dataset\ntype: file\nsnapshot: not-a-hash\n")
        for cmd in [["status"], ["commit", "-m", "x"], ["checkout"]] {
            let r = try s.run(mlvBinary, cmd)
            expectOneLineError(r, status: 2, mentions: ["data/d.csv.mlv:4", "64 hex digits", "git checkout HEAD -- data/d.csv.mlv"])
        }
        #expect(s.read("data/d.csv") == Array(csv(rows: 2000).utf8))
    }

    @Test func aMissingObjectStopsCheckoutBeforeAnythingMoves() throws {
        let s = try committed()
        let head = try s.head()
        // Lose every pack: the data of both commits is gone from the store.
        try FileManager.default.removeItem(atPath: s.repo + "/.mlv/store/packs")
        try FileManager.default.createDirectory(atPath: s.repo + "/.mlv/store/packs", withIntermediateDirectories: true)
        let r = try s.mlv("checkout", "HEAD~1")
        #expect(r.status == 4 || r.status == 2, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("local store") || r.stderr.contains("missing"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(try s.head() == head)
        #expect(s.read("data/d.csv") == Array(csv(rows: 2000).utf8))
        let st = try JSONSerialization.jsonObject(with: Data(try s.mlv("status", "--json").stdout.utf8)) as! [String: Any]
        #expect((st["targets"] as! [[String: Any]])[0]["missing_objects"] as? Bool == true)
    }

    @Test func aPackWithAFlippedByte() throws {
        let s = try committed()
        let packs = try FileManager.default.subpathsOfDirectory(atPath: s.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }
        for p in packs {
            let path = s.repo + "/.mlv/store/packs/" + p
            var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let head = try s.head()
        let r = try s.mlv("show", "HEAD~1:data/d.csv")
        expectOneLineError(r, status: 4, mentions: ["corrupt pack", "SHA-256", "store is damaged"])
        let c = try s.mlv("checkout", "HEAD~1")
        #expect(c.status == 4)
        #expect(c.stderr.contains("corrupt pack"))
        // The working file is untouched (the new version was never renamed into place).
        #expect(s.read("data/d.csv") == Array(csv(rows: 2000).utf8))
        _ = head
    }

    @Test func usageErrorsTeach() throws {
        let s = try Sandbox()
        let r = try s.mlv("commit")
        #expect(r.status == 64)
        #expect(r.stderr.contains("mlv commit -m"))
        let help = try s.mlvOK("checkout", "--help")
        #expect(help.stdout.contains("Examples:"))
        #expect(try s.mlvOK("--version").stdout.contains("0."))
    }
}
