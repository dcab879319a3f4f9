package vector_test

import (
	"fmt"
	"strings"

	"hearth/memory/vector"
)

func Example() {
	index, err := vector.NewIndex(3, vector.Options{})
	if err != nil {
		panic(err)
	}
	for key, vec := range map[string][]float32{
		"thread1/msg1": {1, 0, 0},
		"thread1/msg2": {0, 1, 0},
		"thread2/msg1": {0.9, 0.1, 0},
	} {
		if err := index.Add(key, vec); err != nil {
			panic(err)
		}
	}

	results, err := index.Search([]float32{0.9, 0.15, 0}, 2, nil)
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Printf("%s %.3f\n", r.Key, r.Score)
	}

	// Only the keys of thread1.
	inThread := func(key string) bool { return strings.HasPrefix(key, "thread1/") }
	results, err = index.Search([]float32{0.9, 0.15, 0}, 2, inThread)
	if err != nil {
		panic(err)
	}
	fmt.Println(results[0].Key, results[1].Key)

	// Output:
	// thread2/msg1 0.999
	// thread1/msg1 0.986
	// thread1/msg1 thread1/msg2
}

func ExampleIndex_MarshalBinary() {
	index, _ := vector.NewIndex(2, vector.Options{})
	_ = index.Add("a", []float32{3, 4})

	data, err := index.MarshalBinary()
	if err != nil {
		panic(err)
	}
	var loaded vector.Index
	if err := loaded.UnmarshalBinary(data); err != nil {
		panic(err)
	}
	results, _ := loaded.Search([]float32{3, 4}, 1, nil)
	fmt.Println(loaded.Len(), results[0].Key)
	// Output: 1 a
}
