package embed

import "strings"

// stopwordList contains frequent function words of English, German, French
// and Spanish, written as the featurizer normalises them: lowercase, with
// "ß" as "ss" and without accents. It leaves out words that are also common
// content words in another of these languages, such as "hat", "war",
// "son" and "sin". Words of other languages get the length-based prior only.
//
// Changing the list changes vectors, so it requires a new lexicalVersion.
const stopwordList = `
a about above after again all also am an and any are as at be been before
being below both but by can could d did do does doing don down during each
few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just ll m me more most my
myself no nor not now of off on once only or other our ours ourselves out
over own re s same she should so some such t than that the their theirs
them themselves then there these they this those through to too under
until up us ve very was we were what when where which while who whom whose
why will with would you your yours yourself yourselves

aber als am an auch auf aus bei bin bist da dann das dass dein deine dem den
denn der des dich die dies diese diesem diesen dieser dieses dir doch dort du
durch ein eine einem einen einer eines er es euch euer fur gegen habe haben
hast hatte hatten ich ihm ihn ihnen ihr ihre im in ist ja jetzt kein keine
mein meine meinem meinen meiner mich mir mit nach nein nicht noch nur ob oder
ohne schon sehr sein seine sich sie sind so um und uns unser unter uber vom
von vor waren warum was wenn wer werden wie wir wird wo wurde wurden zu
zum zur

ai au aux avec avez avoir avons c ce ces cet cette chez comme d dans de des
donc dont du elle elles en est et etait etre il ils j je l la le les leur
leurs lui ma mais me mes moi mon n ne ni nos notre nous on ont ou pas qu que
qui quoi s sa sans se ses si sont sur t ta te tes toi tout tous toute tu
un une vos votre vous y

al como con cual cuando de del donde el ella ellas ellos en entre es esa
ese eso esta estan este esto estos fue ha han hay la las le les lo los mas
me mi mis muy no nos nosotros o para pero por que quien se ser si sobre
su sus te tu un una unas uno unos y ya yo
`

// stopChars contains function characters of Chinese and Japanese: pronouns,
// particles and the like.
const stopChars = "的了是在和与也都就这那个我你他她它们吗呢吧啊着把被对从给のはがをにでともへやかねよ"

// stopwords is the set of words in stopwordList.
var stopwords = func() map[string]struct{} {
	set := make(map[string]struct{})
	for _, word := range strings.Fields(stopwordList) {
		set[word] = struct{}{}
	}
	return set
}()

// isStopword reports whether the UTF-8 word is in stopwordList.
func isStopword(word []byte) bool {
	_, ok := stopwords[string(word)]
	return ok
}
