// What the commands share: REV:PATH arguments, the pager choice, the full-report command a
// shortened markdown report names.
import Foundation
import Testing
@testable import MLVCommands
import MLVTestSupport

@Suite struct CommandContextTests {
    @Test(arguments: [
        ("HEAD~1:data/a.csv", "HEAD~1", "data/a.csv"), (":data/a.csv", "HEAD", "data/a.csv"),
        ("data/a.csv", "HEAD", "data/a.csv"), ("model.bin", "HEAD", "model.bin"), ("v1:", "v1", ""),
    ])
    func revAndPath(spec: String, rev: String, path: String) {
        let (r, p) = splitSpec(spec)
        #expect(r == rev && p == path)
    }

    @Test func aWordWithoutSlashOrDotIsARevision() {
        let (r, p) = splitSpec("main")
        #expect(r == "main" && p == nil)
    }

    @Test func thePagerIsChosenAsGitChoosesIt() throws {
        #expect(Pager.command(environment: ["MLV_PAGER": "most", "PAGER": "more"], stdoutIsTerminal: true) == "most")
        #expect(Pager.command(environment: ["PAGER": "more -s"], stdoutIsTerminal: true) == "more -s")
        #expect(Pager.command(environment: ["PAGER": "cat"], stdoutIsTerminal: true) == nil)
        #expect(Pager.command(environment: ["MLV_PAGER": " ", "PAGER": "more"], stdoutIsTerminal: true) == nil)
        #expect(Pager.command(environment: ["PAGER": "more"], stdoutIsTerminal: false) == nil)
        // The default only where `less` exists on PATH.
        let empty = scratchDirectory("h-commands-path")
        #expect(Pager.command(environment: ["PATH": empty], stdoutIsTerminal: true) == nil)
        let withLess = scratchDirectory("h-commands-path")
        FileManager.default.createFile(atPath: withLess + "/less", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        #expect(Pager.command(environment: ["PATH": empty + ":" + withLess], stdoutIsTerminal: true) == "less -FRX")
    }

    @Test func theFullReportIsTheSameCommandAsHTML() {
        #expect(DiffGateOptions.fullReportCommand(["diff", "A", "B", "--format", "md"]) == "mlv diff A B --format html")
        #expect(DiffGateOptions.fullReportCommand(["diff", "--format=md", "--key", "a b"]) == "mlv diff --format=html --key 'a b'")
        #expect(DiffGateOptions.fullReportCommand(["metrics", "diff"]) == "mlv metrics diff --format html")
        let long = ["diff", "--"] + (0..<40).map { "data/file-\($0).csv" }
        #expect(DiffGateOptions.fullReportCommand(long) == "this mlv command with --format html")
    }
}
