module vmkeeper.dev/guest

go 1.22
