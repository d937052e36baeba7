"""Reports counted from the log: the annual report (Regulation Art. 49, the 2021 national format) and the
half-yearly self-assessment (plan 五(三))."""
