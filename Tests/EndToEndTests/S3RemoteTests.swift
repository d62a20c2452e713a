import MLVSystem
import Foundation
import MLVS3
import MLVStore
import MLVTestSupport
import Testing

/// The S3 server the tests talk to: moto on loopback with signatures enforced, started by
/// Tests/Scripts/s3-server.sh (which `make test` and .ci/run use). Without it these tests
/// fail, loudly, rather than pass without having run.
struct S3Server {
    let endpoint: String
    let key: String
    let secret: String
    let python: String

    static func get(sourceLocation: SourceLocation = #_sourceLocation) throws -> S3Server {
        let env = ProcessInfo.processInfo.environment
        guard let e = env["MLV_TEST_S3_ENDPOINT"], let k = env["MLV_TEST_S3_KEY"], let s = env["MLV_TEST_S3_SECRET"] else {
            Issue.record("MLV_TEST_S3_ENDPOINT is not set: run the tests with `make test` (or Tests/Scripts/s3-server.sh swift test), which starts a local S3 server", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        return S3Server(endpoint: e, key: k, secret: s, python: env["MLV_TEST_S3_PYTHON"] ?? "python3")
    }

    var credentials: [String: String] { ["AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1"] }

    func client(bucket: String, prefix: String = "", endpoint: String? = nil) throws -> S3Client {
        let url = "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)")
        return S3Client(location: try S3Location(url: url, endpoint: endpoint ?? self.endpoint, region: "us-east-1"),
                        credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret), region: "us-east-1")
    }

    /// A new, empty bucket.
    func bucket() throws -> String {
        let name = "mlv-" + UUID().uuidString.lowercased().prefix(18)
        try client(bucket: name).createBucket()
        return name
    }

    /// A sandbox repository with `data` tracked and committed, and `origin` an S3 remote
    /// (a fresh bucket, under a key prefix) committed in mlv.yaml.
    func sandbox(_ files: [(String, [UInt8])], prefix: String = "team/churn") throws -> (Sandbox, String) {
        var s = try Sandbox()
        s.env = credentials
        for (path, bytes) in files { try s.write(path, bytes) }
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        let b = try bucket()
        try s.mlvOK("remote", "add", "origin", "s3://\(b)/\(prefix)", "--endpoint", endpoint)
        try s.git("commit", "-q", "-m", "remote")
        return (s, b)
    }
}

/// Compared outside #expect, which would print both arrays in full on a failure.
func sameBytes(_ a: [UInt8]?, _ b: [UInt8]) -> Bool { a == b }

func packCount(_ dir: String) -> Int {
    ((try? FileManager.default.subpathsOfDirectory(atPath: dir + "/.mlv/store/packs")) ?? []).filter { $0.hasSuffix(".pack") }.count
}

@Suite struct S3RemoteTests {
    /// Push (a 20 MiB file: its pack goes up in 8 MiB parts), push again, a 1% change, and a
    /// second clone that pulls everything back byte for byte.
    @Test func pushPullIncrementalAndMultipart() throws {
        let server = try S3Server.get()
        let big = noise(20 << 20, seed: 11)
        let (s, bucket) = try server.sandbox([("data/big.bin", big), ("data/t.csv", Array(csv(rows: 2000).utf8))])
        let first = try json(try s.mlvOK("push", "--json"))
        #expect((first["bytes"] as! Int) > 20_000_000)
        #expect(first["packs"] as? Int == 1)
        let second = try json(try s.mlvOK("push", "--json"))
        #expect(second["packs"] as? Int == 0 && second["bytes"] as? Int == 0)
        #expect((second["already_there_bytes"] as! Int) > 20_000_000)
        // The pack went up as a multipart upload: S3 gives such objects an ETag "<md5>-<parts>".
        let c = try server.client(bucket: bucket, prefix: "team/churn")
        let packs = try c.list("packs")
        #expect(packs.count == 1)
        let etag = try c.head(packs[0].key)["etag"] ?? ""
        #expect(etag.hasSuffix("-3\""), "ETag \(etag)")
        // 1% of the file rewritten: only the new chunks go.
        var v2 = big
        v2.replaceSubrange(5_000_000..<5_200_000, with: noise(200_000, seed: 12))
        try s.write("data/big.bin", v2)
        try s.mlvOK("commit", "-m", "v2")
        let third = try json(try s.mlvOK("push", "--json"))
        #expect((third["bytes"] as! Int) < 1_000_000, "sent \(third["bytes"]!) bytes for a 200 KB change")
        // A clone pulls from the remote named in the committed mlv.yaml.
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(sameBytes(s.read("data/big.bin", in: clone), v2), "data/big.bin differs")
        #expect(sameBytes(s.read("data/t.csv", in: clone), Array(csv(rows: 2000).utf8)), "data/t.csv differs")
        #expect(try s.mlvOK("status", cwd: clone).stdout.contains("clean"))
        try s.mlvOK("fetch", "--rev", "HEAD~2", cwd: clone)
        try s.mlvOK("checkout", "HEAD~2", cwd: clone)
        #expect(sameBytes(s.read("data/big.bin", in: clone), big), "data/big.bin differs")
        #expect(try s.mlvOK("fsck", "--remote", "origin").stdout.contains("no problems"))
    }

    @Test func aCorruptedObjectOnTheRemoteIsDetectedAndNothingReachesTheWorkingTree() throws {
        let server = try S3Server.get()
        let (s, bucket) = try server.sandbox([("data/a.bin", noise(2 << 20, seed: 13))])
        try s.mlvOK("push")
        // Replace the pack on the server by a copy with one flipped bit.
        let c = try server.client(bucket: bucket, prefix: "team/churn")
        let key = try c.list("packs")[0].key
        let local = s.root + "/pack.copy"
        let f = try FileHandleFD.create(local)
        try c.get(key, to: f)
        var bytes = [UInt8](FileManager.default.contents(atPath: local)!)
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: local))
        try c.put(local, as: key)
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let r = try s.mlv("pull", cwd: clone)
        #expect(r.status == 4, "\(r.stderr)")
        #expect(r.stderr.contains("s3://\(bucket)/team/churn/packs/"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: clone + "/data/a.bin"))
        #expect(packCount(clone) == 0)
        let check = try s.mlv("fsck", "--remote", "origin")
        #expect(check.status == 4 && check.stdout.contains(key.split(separator: "/").last!))
    }

    /// A push killed mid-way leaves nothing a reader would use; the next push completes it.
    @Test func aKilledPushResumes() throws {
        let server = try S3Server.get()
        let data = noise(70 << 20, seed: 14)        // three packs
        let (s, _) = try server.sandbox([("data/big.bin", data)])
        let p = try s.spawn(["push"])
        usleep(300_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(sameBytes(s.read("data/big.bin", in: clone), data), "data/big.bin differs")
        #expect(try json(try s.mlvOK("push", "--json"))["bytes"] as? Int == 0)
    }

    @Test func partialPullFetchesOnlyTheChosenTarget() throws {
        let server = try S3Server.get()
        let (s, _) = try server.sandbox([("data/a.bin", noise(400_000, seed: 15))], prefix: "p")
        try s.write("models/m.bin", noise(400_000, seed: 16))
        try s.mlvOK("track", "models")
        try s.mlvOK("commit", "-m", "model")
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        let r = try s.mlvOK("pull", "--", "models/m.bin", cwd: clone)
        #expect(r.stdout.contains("fetched 1 pack"))
        #expect(sameBytes(s.read("models/m.bin", in: clone), noise(400_000, seed: 16)), "models/m.bin differs")
        #expect(s.read("data/a.bin", in: clone) == nil)
    }

    /// Every bad remote is one line naming the remote and the cause, a non-zero exit, and no
    /// change to the local store or working tree.
    @Test func badRemotesAreOneLineErrorsAndChangeNothing() throws {
        let server = try S3Server.get()
        var (s, bucket) = try server.sandbox([("data/a.bin", noise(300_000, seed: 17))])
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        func refused(_ args: [String], env: [String: String], says: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            var t = s
            t.env = env
            let before = packCount(clone)
            let r = try t.run(mlvBinary, args, cwd: clone)
            #expect(r.status != 0, "\(args) succeeded", sourceLocation: sourceLocation)
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
            #expect(r.stderr.contains("remote ") && r.stderr.contains(says), "\(r.stderr)", sourceLocation: sourceLocation)
            #expect(!r.stderr.contains(server.secret), sourceLocation: sourceLocation)
            #expect(packCount(clone) == before && !FileManager.default.fileExists(atPath: clone + "/data/a.bin"), sourceLocation: sourceLocation)
        }
        var wrongSecret = server.credentials
        wrongSecret["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        try refused(["pull"], env: wrongSecret, says: "SignatureDoesNotMatch")
        var unknownKey = server.credentials
        unknownKey["AWS_ACCESS_KEY_ID"] = "AKIAUNKNOWNKEY000000"
        try refused(["pull"], env: unknownKey, says: "does not know the access key")
        try refused(["pull"], env: [:], says: "no AWS credentials")
        // Credentials from a profile in the shared credentials file work like the environment.
        let credFile = s.root + "/aws-credentials"
        try "[ci]\naws_access_key_id = \(server.key)\naws_secret_access_key = \(server.secret)\n".write(toFile: credFile, atomically: true, encoding: .utf8)
        s.env = ["AWS_SHARED_CREDENTIALS_FILE": credFile, "AWS_PROFILE": "ci"]
        try s.mlvOK("fetch", cwd: clone)
        s.env = server.credentials
        // Missing bucket and unreachable endpoint, through remotes added to the clone.
        try s.mlvOK("remote", "add", "gone", "s3://no-such-bucket-\(bucket.suffix(8))/x", "--endpoint", server.endpoint, cwd: clone)
        try refused(["fetch", "gone"], env: server.credentials, says: "does not exist")
        try s.mlvOK("remote", "add", "down", "s3://\(bucket)/team/churn", "--endpoint", "http://127.0.0.1:1", cwd: clone)
        try refused(["fetch", "down"], env: server.credentials, says: "cannot reach http://127.0.0.1:1")
        try refused(["push", "down"], env: server.credentials, says: "cannot reach")
    }

    /// Through a proxy that answers every third request with 503 SlowDown and drops the
    /// connection of others: push and pull still succeed, by retrying.
    @Test func retriesGetPast503sAndDroppedConnections() throws {
        let server = try S3Server.get()
        let faultLog = scratchDirectory("proxy") + "/faults"
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proxy.arguments = [server.python, packageRoot + "/Tests/Scripts/flaky_proxy.py", server.endpoint, faultLog]
        let out = Pipe()
        proxy.standardOutput = out
        try proxy.run()
        // SIGKILL: the test process's threads block SIGTERM, and the child inherits the mask.
        defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        var firstLine = [UInt8]()
        while let b = try out.fileHandleForReading.read(upToCount: 1), let c = b.first, c != 10 { firstLine.append(c) }
        let port = String(decoding: firstLine, as: UTF8.self)
        #expect(Int(port) != nil, "proxy printed \(port)")
        var s = try Sandbox()
        s.env = server.credentials
        let data = noise(20 << 20, seed: 18)     // multipart: parts are retried one by one
        try s.write("data/big.bin", data)
        try s.mlvOK("track", "data")
        try s.mlvOK("commit", "-m", "v1")
        let b = try server.bucket()
        try s.mlvOK("remote", "add", "origin", "s3://\(b)", "--endpoint", "http://127.0.0.1:\(port)")
        try s.git("commit", "-q", "-m", "remote")
        try s.mlvOK("push")
        let clone = s.root + "/clone"
        try s.git("clone", "-q", s.repo, clone, cwd: s.root)
        try s.mlvOK("pull", cwd: clone)
        #expect(sameBytes(s.read("data/big.bin", in: clone), data), "data/big.bin differs")
        let faults = (try? String(contentsOfFile: faultLog, encoding: .utf8)) ?? ""
        #expect(faults.contains(": 503") && faults.contains(": drop"), "faults injected: \(faults)")
    }
}

@Suite struct FsckRepairTests {
    /// Lost indexes are rebuilt from the packs; a damaged pack is moved aside, and fsck then
    /// names what is missing.
    @Test func repairRebuildsIndexesAndSetsDamagedPacksAside() throws {
        let s = try repositoryWithRemote([("data/a.bin", noise(300_000, seed: 19)), ("data/b.bin", noise(300_000, seed: 20))])
        let indexDir = s.repo + "/.mlv/store/index"
        for n in try FileManager.default.contentsOfDirectory(atPath: indexDir) { try FileManager.default.removeItem(atPath: indexDir + "/" + n) }
        try FileManager.default.removeItem(atPath: s.repo + "/data/a.bin")
        let lost = try s.mlv("checkout", "--", "data/a.bin")
        #expect(lost.status == 4, "\(lost.stderr)")
        let fixed = try s.mlvOK("fsck", "--repair")
        #expect(fixed.stdout.contains("rebuilt the index: 2 packs") && fixed.stdout.contains("no problems"), "\(fixed.stdout)")
        try s.mlvOK("checkout", "--", "data/a.bin")
        #expect(sameBytes(s.read("data/a.bin"), noise(300_000, seed: 19)))
        // Now damage one pack: repair moves it to lost/, and fsck lists the pointers it broke.
        let packs = try FileManager.default.subpathsOfDirectory(atPath: s.repo + "/.mlv/store/packs").filter { $0.hasSuffix(".pack") }.sorted()
        let path = s.repo + "/.mlv/store/packs/" + packs[0]
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        bytes[bytes.count - 100] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let r = try s.mlv("fsck", "--repair", "--json")
        #expect(r.status == 4)
        let out = try json(r)
        let repair = out["repair"] as! [String: Any]
        #expect((repair["quarantined"] as! [String]).count == 1 && repair["packs_indexed"] as? Int == 1)
        #expect(((out["check"] as! [String: Any])["problems"] as! [Any]).count >= 1)
        #expect(FileManager.default.fileExists(atPath: s.repo + "/.mlv/store/lost/" + (packs[0] as NSString).lastPathComponent))
    }
}

/// The crash stress script (Tests/Stress/crash.py), short: three SIGKILLs at random moments
/// for each of commit, checkout, push, pull, gc and gc --aggressive, each followed by fsck, a byte-for-byte
/// read of the committed snapshots, a whole-file check of the working tree, and an
/// uninterrupted run. The full run (50 kills each) is `python3 Tests/Stress/crash.py`.
@Suite struct CrashStressTests {
    @Test func everyKilledCommandLeavesTheRepositoryWhole() throws {
        let s = try Sandbox(initMLV: false)
        let seed = UInt32.random(in: 1...1_000_000)
        let r = try s.run("/usr/bin/env", ["python3", packageRoot + "/Tests/Stress/crash.py", "--mlv", mlvBinary, "--kills", "3", "--seed", "\(seed)"], cwd: s.root)
        #expect(r.status == 0, "seed \(seed): \(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("gc-aggressive"), "\(r.stdout)")
        #expect(r.stdout.contains("ok: 18 interrupted runs"), "\(r.stdout)")
    }
}
