import Foundation
import Glibc
import MLVTestSupport
import Testing

/// True while `pid` names a live process (a zombie no container init reaps counts as gone).
func processAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Waits up to `seconds` for `cond`.
func eventually(_ seconds: Double, _ cond: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if cond() { return true }
        usleep(50_000)
    }
    return cond()
}

/// Stage commands run in their own process group, which mlv ends with the command and
/// with itself: nothing a stage starts outlives `mlv repro` or holds its lock.
@Suite struct StageProcessTests {
    /// Finding 15: a background process kept `mlv repro` (and the lock) until it exited.
    @Test func aBackgroundProcessNeitherHoldsReproNorOutlivesIt() throws {
        let s = try Sandbox()
        let pidFile = s.root + "/bg.pid"
        try s.mlvOK("stage", "add", "s", "--out", "o", "--", "sh", "-c", "sleep 600 & echo $! > \(pidFile); echo x > o")
        let started = Date()
        let r = try s.mlvBounded(["repro", "s"], seconds: 30)
        #expect(!r.timedOut, "mlv repro waited for the stage's background process")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(s.read("o") == Array("x\n".utf8))
        let pid = Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self).trimmed) ?? 0
        #expect(pid > 0)
        #expect(eventually(5) { !processAlive(pid) }, "the background sleep outlived mlv repro")
        // The lock is free again: another command runs at once.
        try s.mlvOK("status")
    }

    /// Finding 15: SIGKILL of `mlv repro` orphaned the stage, which wrote files later.
    @Test func sigkillOfMlvEndsTheWholeStageGroup() throws {
        let s = try Sandbox()
        let marker = s.root + "/started", late = s.root + "/late", lateBg = s.root + "/late-bg"
        try s.mlvOK("stage", "add", "slow", "--out", "o", "--", "sh", "-c",
                    "(sleep 2; echo late > \(lateBg)) & echo 1 > \(marker); sleep 2; echo late > \(late); echo x > o")
        let p = try s.spawn(["repro", "slow"])
        #expect(eventually(20) { FileManager.default.fileExists(atPath: marker) }, "the stage never started")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        usleep(4_000_000)
        #expect(!FileManager.default.fileExists(atPath: late), "the stage command outlived mlv")
        #expect(!FileManager.default.fileExists(atPath: lateBg), "the stage's background process outlived mlv")
        #expect(!s.exists("o"))
    }

    /// SIGTERM and SIGHUP of mlv end the stage's group, background processes included, and
    /// mlv puts the previous outputs back.
    @Test func sigtermOrSighupOfMlvEndsTheGroupAndRestoresOutputs() throws {
        for sig in [SIGTERM, SIGHUP] {
            let s = try Sandbox()
            let marker = s.root + "/started", pidFile = s.root + "/bg.pid"
            try s.write("o", "old\n")
            try s.mlvOK("stage", "add", "slow", "--out", "o", "--", "sh", "-c",
                        "sleep 600 & echo $! > \(pidFile); echo new > o; echo 1 > \(marker); sleep 600")
            let p = try s.spawn(["repro", "slow"])
            #expect(eventually(20) { FileManager.default.fileExists(atPath: marker) }, "the stage never started")
            kill(p.processIdentifier, sig)
            #expect(eventually(20) { !p.isRunning }, "mlv did not end after signal \(sig)")
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            #expect(p.terminationStatus != 0)
            let pid = Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self).trimmed) ?? 0
            #expect(pid > 0 && eventually(5) { !processAlive(pid) }, "the background sleep outlived mlv (signal \(sig))")
            #expect(s.read("o") == Array("old\n".utf8))
        }
    }

    /// The run record asks the stage's program for `--version`: a program that leaves a
    /// background process holding its output there must not hold `mlv repro` either.
    @Test func aVersionProbeThatLeavesABackgroundProcessDoesNotHang() throws {
        let s = try Sandbox()
        let pidFile = s.root + "/bg.pid"
        try s.write("tool.sh", "#!/bin/sh\nif [ \"$1\" = --version ]; then sleep 600 & echo $! > \(pidFile); echo tool 1.0; exit 0; fi\necho x > o\n")
        try s.chmod("tool.sh", 0o755)
        try s.mlvOK("stage", "add", "t", "--dep", "tool.sh", "--out", "o", "--", "./tool.sh")
        let r = try s.mlvBounded(["repro", "t"], seconds: 30)
        #expect(!r.timedOut, "mlv repro waited for the version probe's background process")
        #expect(r.status == 0, "\(r.stderr)")
        let record = String(decoding: s.read("mlv-runs/t.json") ?? [], as: UTF8.self)
        #expect(record.contains("tool 1.0"), "\(record)")
        let pid = Int32(String(decoding: FileManager.default.contents(atPath: pidFile) ?? Data(), as: UTF8.self).trimmed) ?? 0
        #expect(pid > 0 && eventually(5) { !processAlive(pid) }, "the probe's background sleep outlived mlv")
    }
}
