//! What support may do for a user (issue #12): unlock, send a reset, reset the secret
//! question, end sessions; and, for administrators, consents, grants and the user's events.
