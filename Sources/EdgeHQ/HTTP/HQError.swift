public import HTTPErrors

/// A refusal of headquarters, answered as `{"error": {"code": "...", "message": "..."}}` with its
/// status (the body boxes decode as `SyncErrorBody`); the same type as the box's API (``JSONError``).
public typealias HQError = JSONError
