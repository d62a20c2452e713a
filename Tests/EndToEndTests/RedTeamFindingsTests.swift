import Foundation
import Glibc
import Testing

/// Findings of a red-team pass over issue 16's guarantees (a repository or remote controlled
/// by someone else), one test each; every one failed on the build it was found on.
@Suite struct RedTeamFindingsTests {
    /// Runs a command, killing it after `seconds`; returns (status, stdout, stderr, timedOut).
    func timed(_ s: Sandbox, _ exe: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:], seconds: Double = 20) throws -> (Int32, String, String, Bool) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? s.repo)
        p.environment = s.environment.merging(env) { $1 }
        let out = s.root + "/o-" + UUID().uuidString, err = s.root + "/e-" + UUID().uuidString
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let o = String(decoding: (FileManager.default.contents(atPath: out) ?? Data()).prefix(1 << 16), as: UTF8.self)
        let e = String(decoding: (FileManager.default.contents(atPath: err) ?? Data()).prefix(1 << 16), as: UTF8.self)
        return (p.terminationStatus, o, e, timedOut)
    }

    @Test func lineageOfACyclicRunRecordEnds() throws {
        let s = try Sandbox()
        try s.write("mlv.yaml", "version: 1\nstages:\n  s:\n    cmd: [\"true\"]\n    deps: [o0, o1, o2, o3]\n    outs: [o0, o1, o2, o3]\n")
        let a = String(repeating: "a", count: 64)
        try s.write("mlv-runs/s.json", "{\"stage\":\"s\",\"definition\":\"x\",\"fingerprint\":\"x\",\"command\":[\"true\"],\"inputs\":{\"o0\":\"\(a)\",\"o1\":\"\(a)\",\"o2\":\"\(a)\",\"o3\":\"\(a)\"},\"params\":{},\"environment\":{},\"tools\":{},\"outputs\":{},\"metrics\":{},\"duration_seconds\":1,\"exit_code\":0}")
        try s.git("add", "-A")
        try s.git("commit", "-qm", "cycle")
        let (status, out, err, timedOut) = try timed(s, mlvBinary, ["lineage", "o0"])
        #expect(!timedOut, "lineage did not end")
        #expect(status == 0, "\(err)")
        #expect(out.split(separator: "\n").count < 100, "\(out.prefix(500))")
        // The pipeline itself is refused as a cycle.
        let list = try s.mlv("stage", "list")
        #expect(list.status == 2 && list.stderr.contains("cycle"), "\(list.stderr)")
    }

    @Test func aHugeBlobInHistoryIsNotLoaded() throws {
        let s = try Sandbox.committing("a.txt", Array("a\n".utf8))
        // 128 MiB of one byte: git stores it in a few hundred KB.
        let big = s.root + "/big"
        try Data(repeating: 0x23, count: 128 << 20).write(to: URL(fileURLWithPath: big))
        let h = try s.git("hash-object", "-w", big).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.removeItem(atPath: big)
        try s.git("update-index", "--add", "--cacheinfo", "100644,\(h),big.mlv")
        try s.git("commit", "-qm", "big")
        try s.git("rm", "-q", "--cached", "big.mlv")
        try s.git("commit", "-qm", "rm")
        for args in [["log"], ["fsck"], ["gc", "--dry-run"]] {
            let (status, _, err, timedOut) = try timed(s, "/usr/bin/time", ["-f", "maxrss=%M", mlvBinary] + args)
            #expect(!timedOut)
            #expect(status == 0, "mlv \(args): \(err)")
            let rss = err.split(separator: "\n").last { $0.hasPrefix("maxrss=") }.flatMap { Int($0.dropFirst(7)) } ?? Int.max
            #expect(rss < 96 * 1024, "mlv \(args.joined(separator: " ")) peaked at \(rss) KiB: the blob was read")
            #expect(err.contains("skipped big.mlv"), "\(err)")
        }
    }

    @Test func anS3ListingThatNeverEndsIsAnError() throws {
        let s = try Sandbox.committing("a.txt", Array("a\n".utf8))
        // A server whose every listing says "more" with the same token.
        let script = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b'<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken></ListBucketResult>'
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        import time
        srv = http.server.HTTPServer(('127.0.0.1', 0), H)
        print(srv.server_address[1], flush=True)
        srv.timeout = 1
        end = time.time() + 30           # bounded: it stops by itself
        while time.time() < end: srv.handle_request()
        """
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        server.standardOutput = pipe
        server.standardError = FileHandle.nullDevice
        server.standardInput = FileHandle.nullDevice
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        var line = Data()
        while !line.contains(0x0A) { let d = pipe.fileHandleForReading.availableData; if d.isEmpty { break }; line += d }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        try s.mlvOK("remote", "add", "origin", "s3://bucket/p", "--endpoint", "http://127.0.0.1:\(port)")
        let env = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"]
        let (status, _, err, timedOut) = try timed(s, mlvBinary, ["fetch"], env: env)
        #expect(!timedOut, "fetch kept listing")
        #expect(status != 0 && err.contains("continuation token"), "\(status) \(err)")
    }

    @Test func aCommittedPlainHTTPEndpointGetsNoCredentials() throws {
        let s = try Sandbox.committing("a.txt", Array("a\n".utf8))
        try s.write("mlv.yaml", "version: 1\nremotes:\n  origin: {url: \"s3://bucket/p\", endpoint: \"http://192.0.2.1:9000\"}\ndefault_remote: origin\n")
        let env = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "TOKEN"]
        let (status, _, err, timedOut) = try timed(s, mlvBinary, ["fetch"], env: env, seconds: 10)
        #expect(!timedOut)
        #expect(status == 2 && err.contains("plain http") && err.contains("MLV_S3_ALLOW_HTTP"), "\(status) \(err)")
    }

    @Test func pushNeverWritesThroughLinkedRemoteFolders() throws {
        let s = try Sandbox.committing("f.txt", Array("hello\n".utf8))
        let victim = s.root + "/victim", remote = s.root + "/remote"
        for d in [victim, remote + "/packs", remote + "/tmp"] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(atPath: remote + "/index", withDestinationPath: victim)
        try s.mlvOK("remote", "add", "origin", remote)
        let r = try s.mlv("push")
        #expect(r.status == 4 && r.stderr.contains("not a real folder"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).isEmpty)
        // The same for a pack fan-out folder.
        try FileManager.default.removeItem(atPath: remote + "/index")
        let fan = try FileManager.default.contentsOfDirectory(atPath: s.repo + "/.mlv/store/packs")
        for f in fan { try FileManager.default.createSymbolicLink(atPath: remote + "/packs/" + f, withDestinationPath: victim) }
        let r2 = try s.mlv("push")
        #expect(r2.status == 4, "\(r2.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim).isEmpty)
    }

    @Test func logSkipsANonPointerInHistoryAndASubmoduleIsNoPointer() throws {
        let s = try Sandbox.committing("t.txt", Array("a\n".utf8))
        try s.write("notes.mlv", "hello\n")
        try s.git("add", "notes.mlv")
        try s.git("commit", "-qm", "junk")
        try s.git("rm", "-q", "notes.mlv")
        try s.git("commit", "-qm", "rm")
        let log = try s.mlv("log")
        #expect(log.status == 0 && log.stderr.contains("skipped notes.mlv"), "\(log.status) \(log.stderr)")
        #expect(log.stdout.contains("t.txt"))
        // A submodule entry (gitlink) whose name ends in .mlv.
        let head = try s.head()
        try s.git("update-index", "--add", "--cacheinfo", "160000,\(head),d/x.csv.mlv")
        for args in [["status"], ["fsck"], ["metrics", "show"]] {
            let r = try s.run(mlvBinary, args)
            #expect(r.status == 0, "mlv \(args.joined(separator: " ")): \(r.status) \(r.stderr)")
        }
    }

    @Test func controlCharactersInNamesNeverReachTheTerminal() throws {
        let s = try Sandbox()
        let name = "\u{1B}]2;owned\u{07}\u{1B}[2J"
        try s.write("d/ok.txt", "x\n")
        try s.write("d/" + name, "x\n")
        let r = try s.mlv("track", "d")
        #expect(r.status == 2 && r.stderr.contains("control character"), "\(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{07}"), "raw control characters in the message")
    }
}

/// Red-team F8: a sparse pack on a directory remote (4 KB on disk, 2 GB apparent) was copied
/// whole into the local store's tmp/ before being checked.
@Suite struct OversizedRemotePackTests {
    @Test func aPackBiggerThanAnyPackMlvWritesIsRefusedUncopied() throws {
        let s = try Sandbox.committing("a.txt", Array("a\n".utf8))
        let remote = s.root + "/remote"
        try s.mlvOK("remote", "add", "origin", remote, "--create")
        try s.git("commit", "-qm", "remote")
        try s.mlvOK("push")
        let packs = (FileManager.default.enumerator(atPath: remote + "/packs")?.compactMap { $0 as? String } ?? []).filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 1)
        for p in packs { #expect(truncate(remote + "/packs/" + p, off_t(2) << 30) == 0) }
        try s.git("clone", "-q", s.repo, s.root + "/clone", cwd: s.root)
        let r = try s.run(mlvBinary, ["fetch"], cwd: s.root + "/clone")
        #expect(r.status == 4 && r.stderr.contains("more than any file mlv writes there"), "\(r.status) \(r.stderr)")
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: s.root + "/clone/.mlv/store/tmp")) ?? []
        #expect(tmp.isEmpty, "\(tmp)")
    }
}

/// Findings of the second red-team pass (each failed on the build it was found on).
@Suite struct RedTeamRoundTwoTests {
    @Test func commitNeverStagesAFileBelowALinkedFolder() throws {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 5).utf8))
        try FileManager.default.createSymbolicLink(atPath: s.repo + "/cfg", withDestinationPath: ".git")
        var yaml = String(decoding: s.read("mlv.yaml") ?? [], as: UTF8.self)
        yaml = yaml.replacingOccurrences(of: "metrics: []", with: "metrics:\n- cfg/config")
        try s.write("mlv.yaml", yaml)
        try s.git("config", "http.extraheader", "AUTHORIZATION: bearer ghp_SECRET")
        try s.write("a.py", "x\n")
        try s.git("add", "a.py")
        let r = try s.mlv("commit", "-m", "work")
        #expect(r.status == 2 && r.stderr.contains("cfg is a symlink"), "\(r.status) \(r.stderr)")
        let tree = try s.git("ls-tree", "-r", "HEAD", "--name-only").stdout
        #expect(!tree.contains("cfg/config"), "\(tree)")
    }

    @Test func runRecordsAreNeverWrittenThroughALinkedFolder() throws {
        let s = try Sandbox()
        let victim = s.root + "/victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        try Data("PRIVATE KEY\n".utf8).write(to: URL(fileURLWithPath: victim + "/id_rsa"))
        try s.write("in/x.txt", "a\n")
        try s.mlvOK("track", "in")
        try s.mlvOK("commit", "-m", "base")
        try s.mlvOK("stage", "add", "gen", "--dep", "in", "--out", "out.txt", "--", "sh", "-c", "cp in/x.txt out.txt")
        try FileManager.default.createSymbolicLink(atPath: s.repo + "/mlv-runs", withDestinationPath: victim)
        let r = try s.mlv("repro")
        #expect(r.status == 2 && r.stderr.contains("mlv-runs is a symlink"), "\(r.status) \(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: victim) == ["id_rsa"])
        #expect(!(try s.git("diff", "--cached", "--name-only").stdout.contains("id_rsa")))
    }

    @Test func stageAndRemoteNamesFromMlvYamlAreChecked() throws {
        let s = try Sandbox()
        try s.write("mlv.yaml", "version: 1\nstages:\n  \"../../victim/pwn\":\n    cmd: [\"true\"]\n")
        let r = try s.mlv("repro")
        #expect(r.status == 2 && r.stderr.contains("stage name"), "\(r.stderr)")
        try s.write("mlv.yaml", "version: 1\nremotes:\n  \"x\\e]2;owned\\a\": {url: /tmp}\n")
        let l = try s.mlv("remote", "list")
        #expect(l.status == 2 && l.stderr.contains("remote name") && !l.stderr.contains("\u{1B}"), "\(l.stderr)")
        try s.write("mlv.yaml", "version: 1\n")
        let f = try s.mlv("remote", "add", "x", "file://backuphost/srv/mlv", "--create")
        #expect(f.status == 2, "\(f.stderr)")
    }

    /// Journal states a killed checkout leaves, built as mlv-store(5) documents them.
    func interrupted() throws -> (Sandbox, v1: String, main: String) {
        let s = try Sandbox.committing("d.csv", Array(csv(rows: 10).utf8))
        let v1 = try s.head()
        try s.write("d.csv", csv(rows: 20))
        try s.mlvOK("commit", "-m", "v2")
        let main = try s.head()
        try s.write(".mlv/state/checkout-journal", "mlv checkout journal 1\nfrom \(main)\nfrom-branch main\nto \(v1)\nbranch -\n")
        try s.git("checkout", v1, "--", "d.csv.mlv")
        return (s, v1, main)
    }

    @Test func aFailedCompletionKeepsTheJournal() throws {
        let (s, v1, _) = try interrupted()
        FileManager.default.createFile(atPath: s.repo + "/.git/index.lock", contents: Data())
        let r = try s.mlv("checkout")
        #expect(r.status != 0)
        #expect(s.exists(".mlv/state/checkout-journal"), "the journal went with a failed completion")
        #expect(try s.mlv("commit", "-m", "mix").status == 3)
        try FileManager.default.removeItem(atPath: s.repo + "/.git/index.lock")
        try s.mlvOK("checkout")
        #expect(try s.head() == v1 && s.read("d.csv") == Array(csv(rows: 10).utf8))
    }

    @Test func forceCompletesWithEditedData() throws {
        let (s, v1, _) = try interrupted()
        try s.write("d.csv", csv(rows: 20) + "999,x,1,1\n")
        #expect(try s.mlv("checkout").status == 3)
        let f = try s.mlvOK("checkout", "--force")
        #expect(f.stderr.contains("saved your uncommitted d.csv"), "\(f.stderr)")
        #expect(try s.head() == v1 && s.read("d.csv") == Array(csv(rows: 10).utf8))
    }

    @Test func aGitCheckoutMadeSinceWinsOverAStaleJournal() throws {
        let (s, _, main) = try interrupted()
        try s.git("checkout", "-q", "--", "d.csv.mlv")
        try s.git("checkout", "-q", "-b", "newwork")
        try s.mlvOK("checkout")
        #expect(try s.head() == main)
        #expect(try s.git("branch", "--show-current").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "newwork")
        #expect(!s.exists(".mlv/state/checkout-journal"))
    }
}
