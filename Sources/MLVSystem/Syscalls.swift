// Every libc function Glibc's Swift module does not show (GNU extensions, declared here by
// symbol name) and every per-architecture constant. No other module declares `@_silgen_name`
// or spells O_DIRECT: they call the wrappers below.
#if canImport(Glibc)
import Glibc
#endif

@_silgen_name("syncfs")
func c_syncfs(_ fd: Int32) -> Int32

@_silgen_name("sync_file_range")
func c_sync_file_range(_ fd: Int32, _ offset: Int64, _ nbytes: Int64, _ flags: UInt32) -> Int32

@_silgen_name("copy_file_range")
func c_copy_file_range(_ fdIn: Int32, _ offIn: UnsafeMutablePointer<Int64>?, _ fdOut: Int32,
                               _ offOut: UnsafeMutablePointer<Int64>?, _ len: Int, _ flags: UInt32) -> Int

@_silgen_name("preadv2")
func c_preadv2(_ fd: Int32, _ iov: UnsafeMutablePointer<iovec>, _ count: Int32, _ offset: Int64, _ flags: Int32) -> Int

/// O_DIRECT, which Glibc's Swift module does not export (it needs _GNU_SOURCE).
#if arch(x86_64)
let oDirect: Int32 = 0o40000
#else
let oDirect: Int32 = 0o200000
#endif

// posix_spawn and pipe helpers for running stage commands (MLVCore's Run/Process.swift).

@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func c_addclosefrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

@_silgen_name("posix_spawn_file_actions_addchdir_np")
private func c_addchdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32

@_silgen_name("pipe2")
private func c_pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32

public enum Syscall {
    /// `posix_spawn_file_actions_addclosefrom_np`: the child closes every descriptor >= `from`.
    public static func spawnAddCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32 {
        c_addclosefrom(actions, from)
    }

    /// `posix_spawn_file_actions_addchdir_np`: the child starts in `path`.
    public static func spawnAddChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: UnsafePointer<CChar>) -> Int32 {
        c_addchdir(actions, path)
    }

    /// `pipe2(2)`.
    public static func pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32 { c_pipe2(fds, flags) }
}
