import Testing
@testable import MLVCore
@testable import MLVStore

/// The command a "not in the local store" error names must run as printed in a POSIX shell.
@Suite struct FetchHintTests {
    func needed(_ path: String, _ rev: String?) -> NeededSnapshot {
        var p = Pointer(kind: .dataset, type: .file)
        p.snapshot = ObjectID.hash(Array(path.utf8))
        return NeededSnapshot(id: p.snapshot!, path: path, rev: rev, pointer: p)
    }

    @Test func revisionsOnceEachInOrderAndPathsQuoted() {
        let m = [needed("a.csv", "HEAD~2"), needed("b.csv", "HEAD~2"), needed("a.csv", "origin/main")]
        #expect(FetchMissing.hint(m, paths: []) == "`mlv fetch --rev HEAD~2 --rev origin/main`")
        #expect(FetchMissing.hint(m, paths: ["my data/a.csv"]) == "`mlv fetch --rev HEAD~2 --rev origin/main -- 'my data/a.csv'`")
    }

    @Test func revisionsThatTheShellWouldChangeAreQuoted() {
        #expect(FetchMissing.quoteRev("HEAD~2") == "HEAD~2")
        #expect(FetchMissing.quoteRev("v1.0^") == "v1.0^")
        #expect(FetchMissing.quoteRev("~x") == "'~x'")
        #expect(FetchMissing.quoteRev("HEAD@{1}") == "'HEAD@{1}'")
        #expect(FetchMissing.quoteRev("it's") == "'it'\\''s'")
    }

    /// The working tree's pointers are what `mlv fetch` without --rev brings.
    @Test func workingTreePointersNeedPlainFetch() {
        #expect(FetchMissing.hint([needed("a.csv", nil)], paths: []) == "`mlv fetch`")
        #expect(FetchMissing.hint([needed("a.csv", "HEAD~1"), needed("b.csv", nil)], paths: ["a.csv"])
                == "`mlv fetch --rev HEAD~1 -- a.csv` and `mlv fetch -- a.csv`")
    }

    @Test func errorNamesEachTargetWithItsRevisions() {
        let e = FetchMissing.notFetchedWhat([needed("a.csv", "HEAD~2"), needed("a.csv", "HEAD~1"), needed("b.csv", "HEAD~1"),
                                          needed("c", "HEAD~1"), needed("d", "HEAD~1"), needed("e", "HEAD~1")])
        #expect(e == "a.csv at HEAD~2 and HEAD~1, b.csv at HEAD~1, c at HEAD~1 and 2 more targets")
    }
}
