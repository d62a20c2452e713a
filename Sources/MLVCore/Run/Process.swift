import Foundation
import Glibc
import MLVStore
import Synchronization

/// Runs a command with exactly `env`, streaming its output (stdout and stderr merged) line by
/// line to `output` with `prefix`, and whole to `log`. SIGINT and SIGTERM sent to mlv are
/// passed on to the command, and mlv waits for it to exit, so the caller can clean up.
/// Returns the exit status, or 128 + signal when the command was killed by a signal.
func runProcess(_ cmd: [String], env: [String: String], cwd: String, log: String, prefix: String,
                output: @escaping (String) -> Void) throws -> Int32 {
    let p = Process()
    let exe = cmd[0].contains("/") ? cmd[0] : (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { FS.join(String($0), cmd[0]) }.first { access($0, X_OK) == 0 } ?? cmd[0]
    p.executableURL = URL(fileURLWithPath: exe.hasPrefix("/") ? exe : FS.join(cwd, exe))
    p.arguments = Array(cmd.dropFirst())
    p.environment = env
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle.nullDevice
    FS.remove(log)
    let logFile = try FileHandleFD.create(log)
    // A parent may have started mlv with SIGINT/SIGTERM blocked (the mask is inherited):
    // unblock them, for mlv to see them and for the command, which inherits this mask, too.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)

    try p.run()
    // From now on SIGINT and SIGTERM sent to mlv go to the command (a plain signal handler:
    // kill(2) is async-signal-safe); mlv itself keeps running until the command is done, so
    // the caller can put the previous outputs back.
    forwardedChild = p.processIdentifier
    signal(SIGINT, forwardSignal)
    signal(SIGTERM, forwardSignal)
    defer {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        forwardedChild = 0
    }
    var pending = Data()
    let reader = pipe.fileHandleForReading
    while true {
        let chunk = reader.availableData
        if chunk.isEmpty { break }
        try? chunk.withUnsafeBytes { try logFile.write($0) }
        pending.append(chunk)
        while let nl = pending.firstIndex(of: 0x0A) {
            output(prefix + String(decoding: pending[pending.startIndex..<nl], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...nl)
        }
    }
    if !pending.isEmpty { output(prefix + String(decoding: pending, as: UTF8.self)) }
    p.waitUntilExit()
    return p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
}

/// The command that signals are passed on to (0: none). Written only by the thread running
/// it, read by the signal handler.
nonisolated(unsafe) private var forwardedChild: pid_t = 0

private func forwardSignal(_ sig: Int32) {
    let pid = forwardedChild
    if pid > 0 { kill(pid, sig) }
}
