// Words mlv's reports share across commands, so that `log`, `diff` and their JSON say the
// same thing for the same change: one enum per state, its raw values the words printed.

/// How a thing differs between two versions (a target between two commits in `mlv log`, a
/// target or file in `mlv diff`). Gone is "removed", everywhere.
public enum ChangeKind: String, Codable, Sendable, CaseIterable {
    case added, removed, modified
}
