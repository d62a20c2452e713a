import Foundation
import MLVTestSupport
import Testing

/// The package root, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The built mlv binary: $MLV_BIN, else .build/debug/mlv. Missing is a failure, not a skip.
let mlvBinary: String = {
    if let p = ProcessInfo.processInfo.environment["MLV_BIN"] { return p }
    return packageRoot + "/.build/debug/mlv"
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data
}

/// A temporary folder with a real git repository in `repo`, and helpers to run the real
/// `mlv` binary and `git` in it. Each test gets its own, so tests can run in parallel.
struct Sandbox {
    let root: String
    var repo: String { root + "/repo" }
    /// Added to the environment of every command run (credentials for S3 tests, say).
    var env: [String: String] = [:]

    init(initMLV: Bool = true) throws {
        root = scratchDirectory("e2e")
        try FileManager.default.createDirectory(atPath: root + "/repo", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
        #expect(FileManager.default.isExecutableFile(atPath: mlvBinary), "mlv binary not found at \(mlvBinary); run `swift build` first")
        try git("init", "-q", "-b", "main")
        if initMLV { try mlvOK("init") }
    }

    var environment: [String: String] {
        // The developer's own AWS settings must not leak into a test.
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        // Hooks and git's merge and diff drivers call `mlv` from PATH: the binary under test
        // comes first (a test that sets PATH itself decides alone).
        if self.env["PATH"] == nil {
            env["PATH"] = (mlvBinary as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        }
        env.merge(self.env) { $1 }
        env["HOME"] = root + "/home"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_AUTHOR_NAME"] = "Test Author"
        env["GIT_AUTHOR_EMAIL"] = "author@example.com"
        env["GIT_COMMITTER_NAME"] = "Test Author"
        env["GIT_COMMITTER_EMAIL"] = "author@example.com"
        env["GIT_AUTHOR_DATE"] = "@1767225600 +0000"
        env["GIT_COMMITTER_DATE"] = "@1767225600 +0000"
        return env
    }

    @discardableResult
    func run(_ exe: String, _ args: [String], cwd: String? = nil, stdin: Data? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? repo)
        p.environment = environment
        // stderr goes to a file and stdout to a pipe drained while the process runs, so a
        // large output cannot block it.
        let out = Pipe()
        let errPath = root + "/stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try err.close()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        try? FileManager.default.removeItem(atPath: errPath)
        return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData)
    }

    @discardableResult
    /// A sandbox with `bytes` written at `path`, the top folder of `path` tracked (or the file
    /// itself when it is at the root), and committed as "v1".
    static func committing(_ path: String, _ bytes: [UInt8]) throws -> Sandbox {
        let s = try Sandbox()
        try s.write(path, bytes)
        try s.mlvOK("track", String(path.split(separator: "/").first!))
        try s.mlvOK("commit", "-m", "v1")
        return s
    }

    /// The bytes `mlv show SPEC` prints (REV:PATH), checked to succeed.
    func shown(_ spec: String, cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        [UInt8](try mlvOK("show", spec, cwd: cwd, sourceLocation: sourceLocation).stdoutBytes)
    }

    /// Starts mlv without waiting for it: stdout is discarded, stderr too unless `stderrTo`
    /// names a file for it.
    func spawn(_ args: [String], cwd: String? = nil, stderrTo: String? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mlvBinary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? repo)
        p.environment = environment
        p.standardOutput = FileHandle.nullDevice
        if let path = stderrTo {
            FileManager.default.createFile(atPath: path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    func mlv(_ args: String..., cwd: String? = nil) throws -> RunResult {
        try run(mlvBinary, args, cwd: cwd)
    }

    /// Runs mlv and records a test issue unless it exits 0.
    @discardableResult
    func mlvOK(_ args: String..., cwd: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let r = try run(mlvBinary, args, cwd: cwd)
        #expect(r.status == 0, "mlv \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    @discardableResult
    func git(_ args: String..., cwd: String? = nil) throws -> RunResult {
        let r = try run("/usr/bin/git", args, cwd: cwd)
        #expect(r.status == 0, "git \(args.joined(separator: " ")) failed: \(r.stderr)")
        return r
    }

    func write(_ rel: String, _ bytes: [UInt8], in dir: String? = nil) throws {
        let path = (dir ?? repo) + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func write(_ rel: String, _ text: String) throws { try write(rel, Array(text.utf8)) }

    func read(_ rel: String, in dir: String? = nil) -> [UInt8]? {
        FileManager.default.contents(atPath: (dir ?? repo) + "/" + rel).map { [UInt8]($0) }
    }

    func exists(_ rel: String) -> Bool { FileManager.default.fileExists(atPath: repo + "/" + rel) }

    func head() throws -> String { try git("rev-parse", "HEAD").stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Every file below `rel` (or the whole working tree minus .git/.mlv) with its bytes and
    /// executable bit, to compare whole trees.
    func snapshot(_ rel: String = "", in dir: String? = nil) -> [String: ([UInt8], Bool)] {
        let base = (dir ?? repo) + (rel.isEmpty ? "" : "/" + rel)
        var out: [String: ([UInt8], Bool)] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: base) else { return out }
        for case let p as String in walker {
            if p.hasPrefix(".git") || p.hasPrefix(".mlv") { continue }
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: base + "/" + p, isDirectory: &isDir)
            if isDir.boolValue { continue }
            let exec = fm.isExecutableFile(atPath: base + "/" + p)
            out[p] = ([UInt8](fm.contents(atPath: base + "/" + p) ?? Data()), exec)
        }
        return out
    }

    func chmod(_ rel: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: repo + "/" + rel)
    }

    /// The first 12-hex-digit commit id in `[branch id] message`.
    static func commitID(_ out: String) -> String? {
        guard let r = out.range(of: #"\[[^\]]* ([0-9a-f]{12})\]"#, options: .regularExpression) else { return nil }
        return String(out[r].split(separator: " ").last!.dropLast())
    }
}

func sameTree(_ a: [String: ([UInt8], Bool)], _ b: [String: ([UInt8], Bool)]) -> Bool {
    guard Set(a.keys) == Set(b.keys) else { return false }
    return a.allSatisfy { k, v in b[k]!.0 == v.0 && b[k]!.1 == v.1 }
}

/// A CSV of `rows` rows with a header.
func csv(rows: Int, seed: Int = 0) -> String {
    var s = "id,name,score,label\n"
    for i in 0..<rows { s += "\(i),name \(i * 7 + seed),\(Double(i % 97) / 7.0),\(i % 3)\n" }
    return s
}

/// A command's stdout as a JSON object; a failure shows what it printed.
func json(_ r: RunResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: r.stdoutBytes) as? [String: Any], "\(r.stdout)\n\(r.stderr)",
                 sourceLocation: sourceLocation)
}

/// Runs python3 -c `script` (argv[1...] = `args`, `input` on stdin) in the caller's
/// environment, not the sandbox's HOME (PyYAML may live in the user's site-packages): the
/// outside reference tests check mlv's figures against. Its stdout, without the trailing
/// line break; a failing script fails the test.
func python(_ script: String, _ args: [String] = [], input: String = "",
            sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script] + args
    // stderr to a file, so that neither pipe can fill while the other is read.
    let errPath = NSTemporaryDirectory() + "mlv-test-python-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let out = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle(forWritingAtPath: errPath)
    p.standardInput = inp
    try p.run()
    inp.fileHandleForWriting.write(Data(input.utf8))
    try inp.fileHandleForWriting.close()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let errText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    #expect(p.terminationStatus == 0, "python3 failed: \(errText)", sourceLocation: sourceLocation)
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
}

