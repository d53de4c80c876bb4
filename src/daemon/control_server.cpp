// placeholder: being written (issue 14)
