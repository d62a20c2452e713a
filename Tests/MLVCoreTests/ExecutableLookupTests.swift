// The one PATH search stages are checked for and run with (lookUpExecutable).
import Testing
@testable import MLVCore
import MLVTestSupport
import MLVSystem

@Suite struct ExecutableLookupTests {
    @Test func theFirstExecutableOnThePathWinsAndNonExecutablesAreSkipped() throws {
        let a = scratchDirectory("path-a"), b = scratchDirectory("path-b")
        try FS.atomicWrite(Array("#!/bin/sh\n".utf8), to: a + "/tool", mode: 0o644)   // not executable
        try FS.atomicWrite(Array("#!/bin/sh\n".utf8), to: b + "/tool", mode: 0o755)
        #expect(lookUpExecutable("tool", searchPath: "\(a):\(b)") == b + "/tool")
        #expect(lookUpExecutable("absent-tool", searchPath: "\(a):\(b)") == nil)
        // No PATH at all: execvp's default folders.
        #expect(lookUpExecutable("sh", searchPath: nil) == "/usr/bin/sh" || lookUpExecutable("sh", searchPath: nil) == "/bin/sh")
        // A stage runs what its check found.
        #expect(executablePath("tool", env: ["PATH": "\(a):\(b)"], cwd: "/") == b + "/tool")
    }
}
