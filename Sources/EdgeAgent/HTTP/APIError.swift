public import HTTPErrors

/// An error of the box's HTTP API, answered as `{"error": {"code": "...", "message": "..."}}` with
/// its status; the same type as headquarters' (``JSONError``).
public typealias APIError = JSONError
