"""Run reports (a fetch, a validation, a sync) sent to the log and, when configured,
to a webhook and by e-mail: one report per run, with counts and examples."""
