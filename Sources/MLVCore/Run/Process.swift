// Stage commands run in a process group of their own, which mlv ends (SIGTERM, then SIGKILL)
// as soon as the command itself exits, and whenever mlv ends:
//   - mlv waits for the command, not for its output pipe to close: a background process the
//     command started may hold the pipe (and would otherwise hold `mlv repro` and the
//     repository lock until it exits);
//   - SIGINT, SIGTERM and SIGHUP sent to mlv go to the whole group; mlv waits for the command
//     to exit so the caller can put the previous outputs back;
//   - SIGKILL of mlv cannot be caught: a small watchdog (`/bin/sh`, in a process group of its
//     own and ignoring SIGINT/SIGTERM/SIGHUP) holds a pipe only mlv writes to, and kills the
//     stage's group with SIGKILL when that pipe closes without mlv saying it is done. What is
//     not covered: a process that left the group (setsid, or a double fork into a new group),
//     and SIGKILL of mlv in the microseconds between starting the command and handing its
//     group to the watchdog.
import MLVSystem
import Foundation
import Glibc
import MLVStore
import Synchronization

/// Runs a command with exactly `env`, streaming its output (stdout and stderr merged) line by
/// line to `output` with `prefix`, and whole to `log`. Returns the exit status, or 128 +
/// signal when the command was killed by a signal.
func runProcess(_ cmd: [String], env: [String: String], cwd: String, log: String, prefix: String,
                output: @escaping (String) -> Void) throws -> Int32 {
    let exe = executablePath(cmd[0], env: env, cwd: cwd)
    FS.remove(log)
    let logFile = try FileHandleFD.create(log)
    var pending: [UInt8] = []
    let status = try runInGroup(exe, cmd, env: env, cwd: cwd, forwardSignals: true, timeout: nil) { piece in
        try? logFile.write(piece)
        pending.append(contentsOf: piece)
        while let nl = pending.firstIndex(of: 0x0A) {
            output(prefix + String(decoding: pending[..<nl], as: UTF8.self))
            pending.removeSubrange(...nl)
        }
        // A command printing without line breaks must not grow mlv's memory without end.
        if pending.count > maxLine {
            output(prefix + String(decoding: pending, as: UTF8.self))
            pending.removeAll(keepingCapacity: true)
        }
    }
    if !pending.isEmpty { output(prefix + String(decoding: pending, as: UTF8.self)) }
    return status
}

/// The first line `exe --version` prints (run like a stage: own group, ended with it,
/// at most 10 seconds and 64 KiB of output), or nil.
func versionLine(_ exe: String, env: [String: String], cwd: String) -> String? {
    var out: [UInt8] = []
    guard let status = try? runInGroup(exe, [exe, "--version"], env: env, cwd: cwd, forwardSignals: false, timeout: 10, { piece in
        if out.count < maxLine { out.append(contentsOf: piece.prefix(maxLine - out.count)) }
    }), status == 0 else { return nil }
    let line = String(decoding: out, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
    return line.isEmpty ? nil : line
}

/// Longest output line kept whole.
private let maxLine = 64 * 1024

/// `name` found on the PATH of `env` (or relative to `cwd` when it holds a slash).
func executablePath(_ name: String, env: [String: String], cwd: String) -> String {
    let exe = name.contains("/") ? name : lookUpExecutable(name, searchPath: env["PATH"]) ?? name
    return exe.hasPrefix("/") ? exe : FS.join(cwd, exe)
}

/// The first executable file `name` in the folders of `searchPath` (a PATH value; when unset,
/// execvp's default), or nil. The one PATH search: a stage is checked for, and run, alike.
public func lookUpExecutable(_ name: String, searchPath: String?) -> String? {
    (searchPath ?? "/usr/bin:/bin").split(separator: ":").map { FS.join(String($0), name) }.first { access($0, X_OK) == 0 }
}

/// How long the group's other processes get between SIGTERM and SIGKILL once the command
/// exited, and how long output from processes outside the group is awaited afterwards.
private let termGrace: Double = 2
private let drainGrace: Double = 0.2

/// Runs `argv` (`exe` the resolved program) in a new process group with stdin from
/// /dev/null and stdout and stderr into one pipe handed piece by piece to `sink`; ends the
/// group when the command exits (or after `timeout` seconds, killing it). Returns the exit
/// status (128 + signal when killed by one).
private func runInGroup(_ exe: String, _ argv: [String], env: [String: String], cwd: String, forwardSignals: Bool,
                        timeout: Double?, _ sink: (UnsafeRawBufferPointer) -> Void) throws -> Int32 {
    // A parent may have started mlv with these signals blocked (the mask is inherited):
    // unblock them, for mlv to see them.
    var set = sigset_t()
    sigemptyset(&set)
    for s in forwardedSignals { sigaddset(&set, s) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    // An ignored SIGCHLD (inherited from a parent) would have the kernel reap the command
    // before mlv could wait for it.
    signal(SIGCHLD, SIG_DFL)

    let out = try makePipe()
    defer { close(out.read) }
    let watch = try makePipe()
    // The watchdog first, so it exists before the command does. It reads the group's id,
    // then waits: a "done" line ends it quietly, end of file (mlv is gone) kills the group.
    let script = "trap '' INT TERM HUP; read pg; read done || { [ \"$pg\" -gt 1 ] && kill -9 -\"$pg\"; } 2>/dev/null"
    let watchdog: pid_t
    do {
        defer { close(watch.read) }
        watchdog = try spawn("/bin/sh", ["sh", "-c", script], env: [:], cwd: "/", stdin: watch.read, output: nil)
    } catch {
        close(out.write)
        close(watch.write)
        throw error
    }
    defer {
        _ = write(watch.write, "0\ndone\n", 7)   // a no-op for a watchdog that has the group already
        close(watch.write)
        reap(watchdog)
    }

    let pid: pid_t
    do {
        defer { close(out.write) }
        pid = try spawn(exe, argv, env: env, cwd: cwd, stdin: nil, output: out.write)
    }
    _ = setpgid(pid, pid)   // also from here: no signal may reach mlv's own group by a race
    let line = Array("\(pid)\n".utf8)
    _ = line.withUnsafeBytes { write(watch.write, $0.baseAddress, $0.count) }

    if forwardSignals {
        signalledGroup.store(pid, ordering: .relaxed)
        for s in forwardedSignals { signal(s, forwardSignal) }
    }
    defer {
        if forwardSignals {
            for s in forwardedSignals { signal(s, SIG_DFL) }
            signalledGroup.store(0, ordering: .relaxed)
            signalsSeen.store(0, ordering: .relaxed)
        }
    }

    let flags = fcntl(out.read, F_GETFL)
    _ = fcntl(out.read, F_SETFL, flags | O_NONBLOCK)
    var buf = [UInt8](repeating: 0, count: 64 * 1024)
    var eof = false
    /// Reads what the pipe holds now; waits up to `ms` for more first.
    func pump(waiting ms: Int32) {
        // Output closed, the command still running: wait without spinning.
        guard !eof else { usleep(useconds_t(ms) * 1000); return }
        var p = pollfd(fd: out.read, events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, ms) <= 0 { return }
        while true {
            let n = buf.withUnsafeMutableBytes { read(out.read, $0.baseAddress, $0.count) }
            if n > 0 { buf.withUnsafeBytes { sink(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }; continue }
            if n == 0 { eof = true }
            if n < 0 && errno == EINTR { continue }
            return
        }
    }

    // Until the command itself exits: its output as it comes. It is left a zombie (WNOWAIT)
    // until its group is ended, so that its pid, the group's id, cannot be reused meanwhile.
    let deadline = timeout.map { Date().addingTimeInterval($0) }
    while !hasExited(pid) {
        if let d = deadline, Date() > d { kill(-pid, SIGKILL) }
        pump(waiting: eof ? 20 : 50)
    }
    pump(waiting: 0)
    // The rest of the group: SIGTERM, a grace period, SIGKILL.
    kill(-pid, SIGTERM)
    let termBy = Date().addingTimeInterval(termGrace)
    while groupHasOthers(pid) && Date() < termBy { pump(waiting: 20) }
    if groupHasOthers(pid) { kill(-pid, SIGKILL) }
    // Output still buffered, or from processes that left the group: briefly.
    let drainBy = Date().addingTimeInterval(drainGrace)
    while !eof && Date() < drainBy { pump(waiting: 20) }
    return reap(pid)
}

private let forwardedSignals = [SIGINT, SIGTERM, SIGHUP]

/// Starts `exe` with `argv` and exactly `env`, in a new process group, signals at their
/// defaults and unblocked; stdin from `stdin` (else /dev/null), stdout and stderr to
/// `output` (else /dev/null). Every other descriptor is closed in the child.
private func spawn(_ exe: String, _ argv: [String], env: [String: String], cwd: String,
                   stdin: Int32?, output: Int32?) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let fd = stdin { posix_spawn_file_actions_adddup2(&actions, fd, 0) } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    for target: Int32 in [1, 2] {
        if let fd = output { posix_spawn_file_actions_adddup2(&actions, fd, target) } else {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
        }
    }
    _ = Syscall.spawnAddCloseFrom(&actions, 3)
    _ = Syscall.spawnAddChdir(&actions, cwd)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for p in cArgs { free(p) }
        for p in cEnv { free(p) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, exe, &actions, &attr, cArgs, cEnv)
    if rc != 0 { throw IOError("run", exe, code: rc) }
    return pid
}

private func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    if Syscall.pipe2(&fds, O_CLOEXEC) != 0 { throw IOError("pipe", "stage output") }
    return (fds[0], fds[1])
}

/// True once `pid` has exited; it stays a zombie (not reaped).
private func hasExited(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    while true {
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 {
            return info._sifields._sigchld.si_pid == pid
        }
        if errno != EINTR { return true }   // ECHILD: nothing left to wait for
    }
}

/// Waits for `pid` and returns its status (128 + signal when a signal ended it).
@discardableResult
private func reap(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return 127 }
    }
    let sig = status & 0x7f
    return sig == 0 ? (status >> 8) & 0xff : 128 + sig
}

/// True while a process other than the leader (not a zombie) is in process group `pg`,
/// from /proc: a group's members cannot be listed otherwise, and signalling the group
/// succeeds as long as the leader is an unreaped zombie.
private func groupHasOthers(_ pg: pid_t) -> Bool {
    for n in (try? FS.list("/proc")) ?? [] {
        guard let pid = Int32(n), pid != pg,
              let f = try? FileHandleFD.openRead("/proc/\(n)/stat") else { continue }
        var b = [UInt8](repeating: 0, count: 1024)
        guard let len = try? b.withUnsafeMutableBytes({ try f.read(into: $0) }),
              let close = b[..<len].lastIndex(of: UInt8(ascii: ")")) else { continue }
        // After "comm)": state ppid pgrp ...
        let fields = b[(close + 1)..<len].split(separator: UInt8(ascii: " "))
        guard fields.count > 2, let pgrp = Int32(String(decoding: fields[2], as: UTF8.self)) else { continue }
        if pgrp == pg && fields[0].first != UInt8(ascii: "Z") { return true }
    }
    return false
}

/// The group that signals are passed on to (0: none), and how many arrived. Written by the
/// thread running the stage, read by the signal handler.
private let signalledGroup = Atomic<pid_t>(0)
private let signalsSeen = Atomic<Int>(0)

/// A plain signal handler (kill(2) is async-signal-safe): the first signal goes on to the
/// group as it is; one more means it is not stopping, and it is killed.
private func forwardSignal(_ sig: Int32) {
    let pg = signalledGroup.load(ordering: .relaxed)
    guard pg > 0 else { return }
    let seen = signalsSeen.add(1, ordering: .relaxed).newValue
    kill(-pg, seen > 1 ? SIGKILL : sig)
}
