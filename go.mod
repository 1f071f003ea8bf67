module github.com/lullws/lull

go 1.24
