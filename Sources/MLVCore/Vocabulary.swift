// The words mlv's outputs use for states, one enum each, so that every command and every
// format (text, JSON, markdown, HTML) says the same thing.

/// How a path, a target or a row differs between two sides.
public enum ChangeKind: String, Sendable, Codable, CaseIterable {
    case added, removed, modified
}
